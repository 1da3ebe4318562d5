"""Exports (grader/export.py): the Gradescope autograder zip, run locally against a temporary
root with a reference and a skeleton submission, and the GitHub Classroom workflow, whose
commands are run in a student release."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from conftest import KIT
from grader.export import (classroom_payload, export_classroom, export_gradescope,
                           to_gradescope)
from grader.manifest import load
from grader.release import build_release
from grader.results import LabResult
from grader.results import TestResult as Outcome

RUN_DEADLINE_S = 900
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "NO_COLOR": "1",
       "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}


# --- Gradescope -----------------------------------------------------------------------------

def unpack(zip_path: Path, root: Path) -> Path:
    """Lays out a Gradescope root as the platform does: the zip in source/."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():      # extractall drops the modes: restore them
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                (root / "source" / info.filename).chmod(mode)
    (root / "submission").mkdir(parents=True)
    return root


def test_gradescope_zip_holds_the_scripts_and_the_kit(tmp_path: Path) -> None:
    out = export_gradescope(KIT, tmp_path / "a.zip")
    with zipfile.ZipFile(out) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        script = archive.read("run_autograder").decode()
    for name in ("setup.sh", "run_autograder", "socklab"):
        assert (infos[name].external_attr >> 16) & 0o111, f"{name} must be executable"
    for lab in load(KIT).labs:
        assert f"solutions/{lab.name}/server.c" in infos
        assert f"labs/{lab.name}/tests/" in "".join(infos)
    for needed in ("labs/labs.toml", "labs/lib/socklab.bash", "grader/export.py",
                   "grader/install-deps.sh"):
        assert needed in infos, needed
    assert not [n for n in infos if n.split("/")[0] in ("tests", "examples", "skeletons",
                                                        "docs", "release")]
    assert not [n for n in infos if "__pycache__" in n]
    assert "grader/install-deps.sh core" in setup
    assert "${AUTOGRADER_ROOT:-/autograder}" in script
    labs = " ".join(lab.id for lab in load(KIT).labs)
    assert f'"${{SOCKLAB_LABS:-{labs}}}"' in script
    # the same kit gives the same zip (a still copy: others may be editing the working tree)
    still = tmp_path / "kit"
    for name in ("grader", "labs", "solutions", "socklab", "Makefile"):
        copy = shutil.copytree if (KIT / name).is_dir() else shutil.copy2
        copy(KIT / name, still / name)
    first = export_gradescope(still, tmp_path / "b.zip").read_bytes()
    (still / "socklab").touch()                       # a newer time changes nothing
    assert export_gradescope(still, tmp_path / "c.zip").read_bytes() == first


def manifest_with_hidden(root: Path) -> Path:
    (root / "labs").mkdir(parents=True)
    (root / "labs" / "labs.toml").write_text(
        '[[lab]]\nid = "01"\nslug = "fake"\ntitle = "Fake"\n'
        '[[lab.test]]\nid = "build"\npoints = 1\nkind = "given"\n'
        '[[lab.test]]\nid = "works"\npoints = 3\n'
        '[[lab.test]]\nid = "ref"\npoints = 2\n'
        '[[lab.test]]\nid = "secret"\npoints = 4\nhidden = true\n')
    return root


def test_gradescope_results_format_and_hidden_visibility(tmp_path: Path) -> None:
    manifest = load(manifest_with_hidden(tmp_path))
    long_details = ["the reason"] + [f"line {n}" for n in range(500)]
    result = LabResult("01", "01-fake", "Fake", [
        Outcome("build", "it builds", 1, 1, "OK", 0.5),
        Outcome("works", "it works", 0, 3, "FAIL", 1.0, "the reason", long_details),
        Outcome("ref", "with the reference", 0, 0, "SKIP", 0.1, "no reference here"),
        Outcome("secret", "a hidden check", 4, 4, "OK", 0.2),
    ], 2.0, ["a problem of the run"])
    data = to_gradescope(manifest, [result], 12.6, "hidden", ["a note"])
    assert data["score"] == 5 and data["execution_time"] == 13
    assert "socklab: 5/8 points" in data["output"] and "a problem of the run" in data["output"]
    assert "a note" in data["output"]
    tests = {t["name"]: t for t in data["tests"]}
    assert list(tests) == ["01-fake [build] it builds", "01-fake [works] it works",
                           "01-fake [ref] with the reference", "01-fake [secret] a hidden check"]
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
    build, works, ref, secret = data["tests"]
    assert (build["score"], build["max_score"], build["status"]) == (1, 1, "passed")
    assert (works["score"], works["max_score"], works["status"]) == (0, 3, "failed")
    assert works["output"].startswith("the reason\nline 0\n") and "more lines" in works["output"]
    assert works["output"].count("the reason") == 1
    assert ref["max_score"] == 0 and "status" not in ref and "no reference here" in ref["output"]
    assert [t["visibility"] for t in data["tests"]] == ["visible"] * 3 + ["hidden"]
    assert secret["tags"] == ["hidden"]
    json.dumps(data)
    published = to_gradescope(manifest, [result], 1.0)
    assert published["tests"][3]["visibility"] == "after_published"


def run_autograder(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([str(root / "source" / "run_autograder")], cwd=root,
                            env={**ENV, "AUTOGRADER_ROOT": str(root)}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def results_of(root: Path, proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=RUN_DEADLINE_S)
    assert proc.returncode == 0, out
    path = root / "results" / "results.json"
    assert path.is_file(), out
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_gradescope_autograder_runs_locally_reference_and_skeleton(tmp_path: Path) -> None:
    lab = load(KIT).find("01")
    zip_path = export_gradescope(KIT, tmp_path / "autograder.zip", ["01"])
    # the reference, uploaded as its lab folder inside a repository-like tree
    reference = unpack(zip_path, tmp_path / "ref")
    shutil.copytree(KIT / "solutions" / lab.name,
                    reference / "submission" / "skeletons" / lab.name)
    (reference / "submission" / "README.md").write_text("my work\n")
    # the skeleton, uploaded as loose files (a one-lab assignment)
    skeleton = unpack(zip_path, tmp_path / "skel")
    for source in (KIT / "skeletons" / lab.name).iterdir():
        shutil.copy(source, skeleton / "submission" / source.name)

    setup = subprocess.run(["bash", str(reference / "source" / "setup.sh")], env=ENV,
                           capture_output=True, text=True, timeout=RUN_DEADLINE_S)
    assert setup.returncode == 0, setup.stdout + setup.stderr

    runs = [(reference, run_autograder(reference)), (skeleton, run_autograder(skeleton))]
    (ref_data, ref_root), (skel_data, _) = [(results_of(r, p), r) for r, p in runs]

    assert ref_data["score"] == lab.max_points == sum(t["max_score"] for t in ref_data["tests"])
    assert [t["status"] for t in ref_data["tests"]] == ["passed"] * len(lab.tests)
    hidden = {t.id for t in lab.tests if t.hidden}
    assert hidden, "lab 01 has a hidden test, so the visibility rule below is exercised"
    for test in ref_data["tests"]:
        test_id = re.match(r"\S+ \[([\w.-]+)\]", test["name"]).group(1)  # type: ignore[union-attr]
        assert test["visibility"] == ("after_published" if test_id in hidden else "visible")
    assert len(ref_data["tests"]) == len(lab.tests)

    given = {t.id for t in lab.tests if t.kind == "given"}
    assert skel_data["score"] == sum(t.points for t in lab.tests if t.id in given)
    by_id = {re.match(r"\S+ \[([\w.-]+)\]", t["name"]).group(1): t  # type: ignore[union-attr]
             for t in skel_data["tests"]}
    assert {i for i, t in by_id.items() if t.get("status") == "passed"} == given
    for test_id, test in by_id.items():
        assert test["max_score"] == lab.test(test_id).points  # type: ignore[union-attr]
        if test["status"] == "failed":
            assert test["output"].strip(), f"{test_id} failed without saying why"


def test_gradescope_missing_lab_and_broken_kit_still_write_results(tmp_path: Path) -> None:
    zip_path = export_gradescope(KIT, tmp_path / "autograder.zip", ["01", "02"])
    empty = unpack(zip_path, tmp_path / "empty")
    data = results_of(empty, run_autograder(empty))
    assert data["score"] == 0 and "no lab folder (01-tcp-hello, ...) found" in data["output"]
    assert all(t["status"] == "failed" for t in data["tests"])
    broken = unpack(zip_path, tmp_path / "broken")
    (broken / "source" / "labs" / "labs.toml").write_text("[[lab]\n")
    data = results_of(broken, run_autograder(broken))
    assert data["score"] == 0 and data["tests"] == []
    assert "autograder failed" in data["output"]


# --- GitHub Classroom -----------------------------------------------------------------------

def test_classroom_workflow(tmp_path: Path) -> None:
    path = export_classroom(KIT, tmp_path)
    assert path == tmp_path / ".github" / "workflows" / "classroom.yml"
    text = path.read_text()
    assert "\t" not in text
    assert all(len(line) - len(line.lstrip(" ")) in range(0, 13, 2)
               for line in text.splitlines())
    assert "name: Autograding Tests" in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert 'SOCKLAB_RESULTS: "${{ steps.points.outputs.result }}"' in text
    assert "runners: socklab" in text
    assert "run: ./socklab test --json socklab.json" in text
    one = export_classroom(KIT, tmp_path / "one", ["01"]).read_text()
    assert "run: ./socklab test 01 --json socklab.json" in one


def test_classroom_payload_counts_what_socklab_counts() -> None:
    data = {"labs": [{"name": "01-fake", "max_points": 4, "problems": [], "tests": [
        {"id": "build", "title": "builds", "points": 1, "max_points": 1, "status": "OK"},
        {"id": "works", "title": "works", "points": 0, "max_points": 3, "status": "FAIL",
         "reason": "expected yes"},
        {"id": "ref", "title": "ref", "points": 0, "max_points": 0, "status": "SKIP"}]}]}
    payload = classroom_payload(data)
    assert payload["max_score"] == 4 and payload["status"] == "fail"
    assert [(t["name"], t["status"], t["score"]) for t in payload["tests"]] == [
        ("01-fake [build] builds", "pass", 1), ("01-fake [works] works", "fail", 0)]
    assert payload["tests"][1]["message"] == "expected yes"
    assert classroom_payload(None)["status"] == "error"


FAKE_BATS = """
BATS_TEST_TIMEOUT=5
@test "[build] the folder is there" { [ -d "$SOCKLAB_IMPL" ]; }
@test "[works] the implementation says yes" {
    answer=$(cat "$SOCKLAB_IMPL/answer")
    [ "$answer" = yes ] || { echo "expected yes, got: $answer"; false; }
}
@test "[ref] the reference is there" {
    [ "$SOCKLAB_REF" != none ] || skip "the reference solution is not available here"
    [ -d "$SOCKLAB_REF" ]
}
"""


def fake_kit(root: Path) -> Path:
    """A kit with the real command line and grader, and one tiny lab (no C: seconds)."""
    shutil.copytree(KIT / "grader", root / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(KIT / "socklab", root / "socklab")
    (root / "labs" / "01-fake" / "tests").mkdir(parents=True)
    (root / "labs" / "01-fake" / "tests" / "fake.bats").write_text(FAKE_BATS)
    (root / "labs" / "labs.toml").write_text(
        '[[lab]]\nid = "01"\nslug = "fake"\ntitle = "Fake"\n'
        '[[lab.test]]\nid = "build"\npoints = 1\nkind = "given"\n'
        '[[lab.test]]\nid = "works"\npoints = 3\n'
        '[[lab.test]]\nid = "ref"\npoints = 2\n')
    for tree, answer in (("skeletons", "no"), ("solutions", "yes")):
        (root / tree / "01-fake").mkdir(parents=True)
        (root / tree / "01-fake" / "answer").write_text(answer + "\n")
    return root


def test_classroom_commands_work_in_a_student_release(tmp_path: Path) -> None:
    folder, _ = build_release(fake_kit(tmp_path / "kit"), tmp_path / "release")
    workflow = (folder / ".github" / "workflows" / "classroom.yml").read_text()
    commands = re.findall(r"^\s+run: (.+)$", workflow, re.MULTILINE)
    assert len(commands) == 3
    output = tmp_path / "github-output"
    env = {**ENV, "GITHUB_OUTPUT": str(output)}
    statuses = []
    for command in commands:
        command = command.removeprefix("sudo ")     # the runner's user is not root; we are
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=RUN_DEADLINE_S)
        statuses.append(proc.returncode)
        if "socklab test" in command:
            assert "Total: 1/4 points" in proc.stdout, proc.stdout + proc.stderr
            assert "the reference solution is not available here" in proc.stdout
    assert statuses == [0, 1, 0]       # the test step fails: points were lost
    line = output.read_text().strip()
    assert line.startswith("result=")
    payload = json.loads(base64.b64decode(line.removeprefix("result=")))
    assert payload["max_score"] == 4 and payload["status"] == "fail"
    assert [(t["name"].split(" ")[1], t["score"]) for t in payload["tests"]] == [
        ("[build]", 1), ("[works]", 0)]


def test_cli_parsers_write_what_they_say(tmp_path: Path, capsys: Any) -> None:
    import argparse

    from grader.cli_export import add_export_parsers
    top = argparse.ArgumentParser(prog="socklab")
    add_export_parsers(top.add_subparsers(dest="command", required=True))
    manifest = load(KIT)
    for argv, made in (
            (["export", "gradescope", "01", "-o", str(tmp_path / "g.zip")], tmp_path / "g.zip"),
            (["export", "classroom", "-o", str(tmp_path / "repo")],
             tmp_path / "repo" / ".github" / "workflows" / "classroom.yml"),
            (["release", "-o", str(tmp_path / "rel")],
             tmp_path / "rel" / "socklab-student.tar.gz")):
        args = top.parse_args(argv)
        assert args.handler(args, manifest) == 0
        assert made.is_file(), argv
        assert str(made.name) in capsys.readouterr().out


def test_gradescope_runs_hidden_tests_and_marks_them(tmp_path: Path) -> None:
    kit = fake_kit(tmp_path / "kit")
    (kit / "labs" / "01-fake" / "hidden").mkdir()
    (kit / "labs" / "01-fake" / "hidden" / "secret.bats").write_text(
        '@test "[secret] a test students do not get" {\n'
        '    echo "SECRET DETAIL"\n    grep -q yes "$SOCKLAB_IMPL/answer"\n}\n')
    with (kit / "labs" / "labs.toml").open("a") as manifest:
        manifest.write('[[lab.test]]\nid = "secret"\npoints = 5\nhidden = true\n')
    zip_path = export_gradescope(kit, tmp_path / "autograder.zip", hidden_visibility="hidden")
    with zipfile.ZipFile(zip_path) as archive:
        assert "labs/01-fake/hidden/secret.bats" in archive.namelist()
    root = unpack(zip_path, tmp_path / "ag")
    (root / "submission" / "01-fake").mkdir()
    (root / "submission" / "01-fake" / "answer").write_text("no\n")
    data = results_of(root, run_autograder(root))
    tests = {t["name"].split(" ")[1]: t for t in data["tests"]}
    assert list(tests) == ["[build]", "[works]", "[ref]", "[secret]"]
    assert tests["[ref]"]["status"] == "passed"                   # the zip holds solutions/
    secret = tests["[secret]"]
    assert (secret["status"], secret["max_score"], secret["visibility"]) == ("failed", 5, "hidden")
    assert "SECRET DETAIL" in secret["output"]
    assert data["score"] == 3 and "socklab: 3/11 points" in data["output"]
