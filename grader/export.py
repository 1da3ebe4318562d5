"""Hands socklab's grading to the platforms instructors use: Gradescope and GitHub Classroom.

    export_gradescope(kit_root, out_zip)    an autograder zip: setup.sh, run_autograder, the kit
    export_classroom(kit_root, out_dir)     .github/workflows/classroom.yml for a student repo

The zip's `run_autograder` and the workflow call back into this module (`python3 -m
grader.export run-autograder | classroom-result`), so that what they do is tested here:

- run-autograder: takes in <root>/submission (grader/intake.py, as `socklab grade` does),
  grades its lab folders with every test (hidden ones too, cross-tests against solutions/), and writes
  <root>/results/results.json in Gradescope's format. <root> is $AUTOGRADER_ROOT, by default
  /autograder, so the same script runs locally against a temporary folder.
- classroom-result: turns `socklab test --json` results into the payload GitHub Classroom's
  reporter action (classroom-resources/autograding-grading-reporter) reads, one test a line.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
import traceback
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from grader import i18n
from grader import manifest as manifest_mod
from grader.i18n import _
from grader.intake import SubmissionError, take_in
from grader.manifest import Manifest
from grader.results import FAIL, OK, SKIP, LabResult, failed_everything
from grader.runner import grading_config, grading_jobs, run_lab, sandboxed

DEFAULT_ROOT = "/autograder"
HIDDEN_VISIBILITIES = ("after_published", "after_due_date", "hidden")
OUTPUT_LINES = 200              # lines of a failure's message put in a test's output
OUTPUT_CHARS = 20_000           # and at most this much text: Gradescope shows it in a page

# What the autograder zip holds of the kit (the grader needs the manifest, the tests, hidden
# ones included, the harness and the reference solutions for the cross-tests).
GRADESCOPE_INCLUDED = ("Makefile", "socklab", "grader", "labs", "solutions", "po")
ZIP_SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)   # fixed: the same kit gives the same zip

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image: it installs the
# Debian/Ubuntu packages socklab needs (the kit's own list, grader/install-deps.sh).
# socklab needs /usr/bin/python3 3.11 or newer: choose the Ubuntu 24.04 base image.
set -euo pipefail
cd "$(dirname "$0")"
chmod +x socklab run_autograder grader/install-deps.sh
export DEBIAN_FRONTEND=noninteractive
sh grader/install-deps.sh core
if ! /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup.sh: socklab needs Python 3.11 or newer as /usr/bin/python3 (found:" \\
         "$(/usr/bin/python3 --version 2>&1)); choose the Ubuntu 24.04 base image" >&2
    exit 1
fi
"""

RUN_AUTOGRADER = """#!/bin/sh
# Gradescope runs this for every submission (as /autograder/run_autograder, working folder
# /autograder). It grades {labs_text} and writes results/results.json.
# Try it locally: unzip the autograder into ROOT/source, put a submission in ROOT/submission,
# then run  AUTOGRADER_ROOT=ROOT ROOT/source/run_autograder
root=${{AUTOGRADER_ROOT:-{default_root}}}
export AUTOGRADER_ROOT="$root"
PYTHONPATH="$root/source" exec /usr/bin/python3 -m grader.export run-autograder \\
    --root "$root" --labs "${{SOCKLAB_LABS:-{labs}}}" \\
    --hidden-visibility "${{SOCKLAB_HIDDEN_VISIBILITY:-{hidden_visibility}}}"
"""


# --- Gradescope: the zip --------------------------------------------------------------------

def _zip_files(kit_root: Path) -> list[Path]:
    files = []
    for name in GRADESCOPE_INCLUDED:
        top = kit_root / name
        if top.is_file():
            files.append(Path(name))
        elif top.is_dir():
            files += [p.relative_to(kit_root) for p in top.rglob("*")
                      if p.is_file() and not p.is_symlink()
                      and not ZIP_SKIPPED_PARTS & set(p.relative_to(kit_root).parts)
                      and p.suffix != ".pyc"]
    return sorted(files)


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.external_attr = ((0o100755 if executable else 0o100644) << 16)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def export_gradescope(kit_root: Path, out_zip: Path, labs: list[str] | None = None,
                      hidden_visibility: str = "after_published") -> Path:
    """Writes a Gradescope autograder zip for `labs` (keys like "01"; default: every lab).
    Hidden tests get `hidden_visibility` ("after_published", "after_due_date" or "hidden")."""
    if hidden_visibility not in HIDDEN_VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {HIDDEN_VISIBILITIES}")
    kit_root = kit_root.resolve()
    manifest = manifest_mod.load(kit_root)
    chosen = [manifest.find(key) for key in labs] if labs else list(manifest.labs)
    missing = [lab.name for lab in chosen if not (kit_root / "solutions" / lab.name).is_dir()]
    if missing:
        raise manifest_mod.ManifestError(_("no reference solution for {labs}: the cross-tests "
                                           "need solutions/").format(labs=", ".join(missing)))
    ids = " ".join(lab.id for lab in chosen)
    script = RUN_AUTOGRADER.format(
        labs=ids, default_root=DEFAULT_ROOT, hidden_visibility=hidden_visibility,
        labs_text=("lab " if len(chosen) == 1 else "labs ") + ", ".join(l.name for l in chosen))
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    partial = out_zip.with_name(out_zip.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(archive, "run_autograder", script.encode(), executable=True)
        for relative in _zip_files(kit_root):
            path = kit_root / relative
            _add(archive, str(relative), path.read_bytes(), os.access(path, os.X_OK))
    partial.replace(out_zip)
    return out_zip


# --- Gradescope: one submission -------------------------------------------------------------

def _output(lines: list[str]) -> str:
    text = "\n".join(lines[:OUTPUT_LINES])
    if len(lines) > OUTPUT_LINES:
        text += "\n" + _("... ({count} more lines)").format(count=len(lines) - OUTPUT_LINES)
    return text if len(text) <= OUTPUT_CHARS else text[:OUTPUT_CHARS] + "\n" + _("... (cut)")


def to_gradescope(manifest: Manifest, results: list[LabResult], elapsed_s: float,
                  hidden_visibility: str = "after_published",
                  notes: list[str] | None = None) -> dict[str, Any]:
    """Gradescope's results.json for graded labs: one entry per test."""
    tests = []
    for result in results:
        lab = manifest.find(result.name)
        for number, test in enumerate(result.tests, start=1):
            spec = lab.test(test.id)
            hidden = bool(spec and spec.hidden)
            if test.status == OK:
                output = test.title or _("passed")
            elif test.status == SKIP:
                output = _("skipped: {reason}").format(reason=test.reason)
            else:
                output = _output([test.reason, *[d for d in test.details if d != test.reason]])
            entry: dict[str, Any] = {
                "name": f"{result.name} [{test.id}] {test.title}".rstrip(),
                "number": f"{int(result.id)}.{number}",
                "score": test.points,
                "max_score": test.max_points,
                "output": output,
                "visibility": hidden_visibility if hidden else "visible",
            }
            if test.status != SKIP:
                entry["status"] = "passed" if test.status == OK else "failed"
            if hidden:
                entry["tags"] = ["hidden"]
            tests.append(entry)
    points = sum(r.points for r in results)
    most = sum(r.max_points for r in results)
    summary = ["socklab: " + _("{points}/{max_points} points").format(points=points,
                                                                        max_points=most)]
    summary += [f"{r.name}: {r.points}/{r.max_points}" for r in results]
    summary += [f"{r.name}: {problem}" for r in results for problem in r.problems]
    summary += notes or []
    return {
        "score": points,
        "execution_time": round(elapsed_s),
        "output": "\n".join(summary),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def run_autograder(root: Path, labs: list[str] | None = None,
                   hidden_visibility: str = "after_published", jobs: int | None = None) -> Path:
    """Grades <root>/submission with the kit in <root>/source; writes results/results.json."""
    started = time.monotonic()
    results_path = root / "results" / "results.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        manifest = manifest_mod.load(root / "source")
        chosen = [manifest.find(key) for key in labs] if labs else list(manifest.labs)
        with tempfile.TemporaryDirectory(prefix="socklab-autograder-") as scratch:
            try:
                intake = take_in(root / "submission", Path(scratch) / "submission",
                                 [lab.name for lab in chosen])
            except SubmissionError as error:   # refused whole: every test fails with the reason
                results = [failed_everything(lab, str(error)) for lab in chosen]
            else:
                runs, results = intake.split(chosen)
                config, warnings = sandboxed(
                    grading_config(intake.root, Path(scratch), hidden=True), manifest.root)
                for line in warnings:   # in the autograder's output, which the staff see
                    print(f"socklab: {line}", file=sys.stderr)
                workers = jobs or grading_jobs()
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    results += pool.map(lambda lab: run_lab(manifest, lab, config), runs)
        order = [lab.name for lab in chosen]
        results.sort(key=lambda result: order.index(result.name))
        data = to_gradescope(manifest, results, time.monotonic() - started, hidden_visibility)
    except Exception:   # noqa: BLE001 — Gradescope must get a results file whatever happens
        traceback.print_exc()
        data = {"score": 0, "execution_time": round(time.monotonic() - started),
                "output": _("The autograder failed before grading this submission; the course "
                            "staff can see why in its output. Please tell them."),
                "stdout_visibility": "hidden", "tests": []}
    results_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    print(data["output"])
    return results_path


# --- GitHub Classroom -----------------------------------------------------------------------

CLASSROOM_WORKFLOW = """# GitHub Classroom autograding for a socklab student repository
# (a student release: `socklab release`). Written by `socklab export classroom`.
#
# It installs the Debian/Ubuntu packages socklab needs, tests {labs_text} with
# `./socklab test` (the table of results is in the step's log; the step fails when points
# were lost), then hands the points of every test to GitHub Classroom's reporter action.
# Tests that need the reference solution skip in a student repository and count neither way.
name: Autograding Tests
"on":
  - push
  - workflow_dispatch
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-24.04
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: {timeout}
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Install the packages socklab needs
        run: sudo sh grader/install-deps.sh core
      - name: Test {labs_text}
        id: socklab
        continue-on-error: true
        run: ./socklab test {labs}--json socklab.json
      - name: Points per test
        id: points
        if: always()
        run: /usr/bin/python3 -m grader.export classroom-result socklab.json >>"$GITHUB_OUTPUT"
      - name: Autograding Reporter
        if: always()
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          SOCKLAB_RESULTS: "${{{{ steps.points.outputs.result }}}}"
        with:
          runners: socklab
"""

CLASSROOM_MINUTES_PER_LAB = 10


def export_classroom(kit_root: Path, out_dir: Path, labs: list[str] | None = None) -> Path:
    """Writes out_dir/.github/workflows/classroom.yml (out_dir: a student repository, e.g. a
    release folder). `labs` (keys like "01") limits it to those labs; default: every lab."""
    manifest = manifest_mod.load(kit_root.resolve())
    chosen = [manifest.find(key) for key in labs] if labs else list(manifest.labs)
    every = len(chosen) == len(manifest.labs)
    text = CLASSROOM_WORKFLOW.format(
        labs="" if every else " ".join(lab.id for lab in chosen) + " ",
        labs_text="every lab" if every else ("lab " if len(chosen) == 1 else "labs ")
        + ", ".join(lab.name for lab in chosen),
        timeout=CLASSROOM_MINUTES_PER_LAB * len(chosen) + 10)
    path = out_dir / ".github" / "workflows" / "classroom.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def classroom_payload(data: dict[str, Any] | None) -> dict[str, Any]:
    """The reporter's runner result for `socklab test --json` data (None: the run failed)."""
    if not data or not isinstance(data.get("labs"), list):
        return {"version": 1, "status": "error", "max_score": 0,
                "tests": [{"name": "socklab test", "status": "error", "score": 0,
                           "message": _("socklab test wrote no results: see the log of the "
                                        "step 'Test ...' above")}]}
    tests = []
    for lab in data["labs"]:
        for test in lab.get("tests", []):
            if test.get("status") == SKIP:
                continue             # counts neither way, as in socklab's own total
            entry: dict[str, Any] = {
                "name": f"{lab.get('name', '')} [{test.get('id', '')}] "
                        f"{test.get('title', '')}".rstrip(),
                "status": "pass" if test.get("status") == OK else "fail",
                "score": test.get("points", 0),
                "line_no": 0,
            }
            if test.get("status") == FAIL:
                entry["message"] = str(test.get("reason", "")) or _("failed")
            tests.append(entry)
    failed = any(t["status"] != "pass" for t in tests) or any(
        lab.get("problems") for lab in data["labs"])
    return {"version": 1, "status": "fail" if failed else "pass",
            "max_score": sum(int(lab.get("max_points", 0)) for lab in data["labs"]),
            "tests": tests}


def classroom_output(results_json: Path) -> str:
    """The line for $GITHUB_OUTPUT: result=<the payload, base64>."""
    try:
        data = json.loads(results_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    payload = json.dumps(classroom_payload(data), ensure_ascii=False).encode("utf-8")
    return "result=" + base64.b64encode(payload).decode("ascii")


# --- entry points for the generated scripts -------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python3 -m grader.export",
                                  description="entry points of the Gradescope autograder and "
                                              "the GitHub Classroom workflow socklab writes")
    commands = top.add_subparsers(dest="command", required=True)
    autograde = commands.add_parser("run-autograder", help="grade /autograder/submission")
    autograde.add_argument("--root", type=Path,
                           default=Path(os.environ.get("AUTOGRADER_ROOT", DEFAULT_ROOT)))
    autograde.add_argument("--labs", default="", help="lab ids, space-separated (default: all)")
    autograde.add_argument("--hidden-visibility", default="after_published",
                           choices=HIDDEN_VISIBILITIES)
    result = commands.add_parser("classroom-result",
                                 help="print result=<base64 payload> for $GITHUB_OUTPUT")
    result.add_argument("results_json", type=Path)
    args = top.parse_args(argv)
    # The language as everywhere (SOCKLAB_LANG, else the locale): set SOCKLAB_LANG=ko in
    # run_autograder's environment for Korean results on Gradescope.
    i18n.setup(root=Path(__file__).resolve().parent.parent)
    if args.command == "run-autograder":
        run_autograder(args.root, args.labs.split() or None, args.hidden_visibility)
        return 0
    print(classroom_output(args.results_json))
    return 0


if __name__ == "__main__":
    sys.exit(main())
