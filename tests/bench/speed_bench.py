#!/usr/bin/python3
"""Benchmark: how fast the kit gives feedback, beside the same figures for a baseline revision.

    tests/bench/speed_bench.py [BASELINE] [--new REV] [--runs N] [--class-size N] [--full]

Exports two revisions of the kit (BASELINE, default 1c021b4, and --new, default HEAD) into a
scratch folder and measures each figure of issue 13 on both, one after the other in the same
run, so that the ratio new/baseline means something even on a machine whose speed drifts:

  ref-01, ref-06, ref-01-06   `socklab test LABS --impl solutions`, wall seconds
  cpu-per-student             CPU-seconds of the whole machine during ref-01-06
  skel-01                     `socklab test 01` on the fresh skeleton (everything failing)
  skel-01-first-fail          seconds until its first failing test is on screen (read as the
                              output streams; a kit that prints at the end shows it then)
  watch-01                    `socklab watch 01`: a one-line edit saved -> the new score printed
  class-of-100                `socklab grade` of --class-size copies of the complete student
                              (labs 01-06, default -j), scaled to 100 (grading is linear in
                              the class size: tests/bench/class_bench.py shows it; a class
                              smaller than a few times the cores leaves cores idle, so a
                              small --class-size overstates the figure, for both revisions:
                              the default, 12, read 813 s where 100 graded as one took 796 s,
                              and 4 copies up to a fifth more, 2026-12-04)
  make-class, make-test       with --full only (minutes each): the README's two commands

Each figure is the best of --runs runs (default 1; a shared machine only ever adds time).
The targets of issue 13 are printed beside the figures. Measure on an idle machine: the
load average is printed first. Prints figures only: a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
SIX_LABS = ["01", "02", "03", "04", "05", "06"]
CLASS_SCALE = 100                      # the class size
CLASS_SIZE = 12                        # copies graded for it (see class-of-100 above)
WATCH_LIMIT_S = 120.0                  # a watch that has not re-scored by then has failed
FIRST_FAIL = re.compile(r"^\s*FAIL\b")   # a failing row of a lab table (socklab's report)
SCORE = re.compile(r"^Score: ")          # the line watch prints after each check
ENV = dict(os.environ, LANG="C.UTF-8", LANGUAGE="", LC_ALL="", SOCKLAB_LANG="en")
ENV.pop("SOCKLAB_BUILD_DIR", None)


@dataclass(frozen=True)
class Figure:
    key: str
    what: str
    target: str          # issue 13's goal, as text
    unit: str = "s"


FIGURES = [
    Figure("ref-01", "reference, lab 01", "<= 3 s"),
    Figure("ref-06", "reference, lab 06", "<= 8 s"),
    Figure("ref-01-06", "reference, labs 01-06", "<= 20 s"),
    Figure("cpu-per-student", "CPU per student, labs 01-06", "<= 20 CPU-s", "CPU-s"),
    Figure("skel-01", "fresh skeleton, lab 01", "<= 4 s"),
    Figure("skel-01-first-fail", "  its first failure on screen", "<= 1.5 s"),
    Figure("watch-01", "watch: one-line edit -> new score", "<= 3 s"),
    Figure("class-of-100", "class of 100, labs 01-06 (scaled)", "<= 900 s"),
    Figure("make-class", "make class", "<= 120 s"),
    Figure("make-test", "make test", "<= 240 s"),
]


def machine_cpu_seconds() -> float:
    """CPU time every core has spent busy since boot (/proc/stat's first line)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def export(rev: str, into: Path) -> Path:
    """A clean copy of the kit at `rev` (what a fresh clone holds, without .git)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(KIT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def timed(argv: list[str], cwd: Path, on_line: Callable[[str, float], bool] | None = None,
          limit_s: float | None = None) -> tuple[float, float]:
    """Runs `argv`; returns (wall seconds, machine CPU-seconds). `on_line(line, t)` sees each
    output line with its time since the start, and may stop the program by returning True;
    after `limit_s` it is stopped anyway."""
    cpu = machine_cpu_seconds()
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    stop = threading.Timer(limit_s or 0, proc.terminate)
    if limit_s is not None:
        stop.start()
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if on_line is not None and on_line(line, time.monotonic() - started):
                proc.terminate()
                break
        proc.wait()
    finally:
        stop.cancel()
    return time.monotonic() - started, machine_cpu_seconds() - cpu


def socklab(kit: Path, *args: str) -> list[str]:
    return [str(kit / "socklab"), *args]


def measure_ref(kit: Path, labs: list[str]) -> tuple[float, float]:
    return timed(socklab(kit, "test", *labs, "--impl", str(kit / "solutions")), kit)


def measure_skeleton(kit: Path, scratch: Path) -> tuple[float, float]:
    """Lab 01's fresh skeleton (a copy, so the kit's own progress files stay untouched)."""
    tree = scratch / "skeleton-tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(kit / "skeletons", tree)
    first: list[float] = []

    def see(line: str, at: float) -> bool:
        if not first and FIRST_FAIL.match(line):
            first.append(at)
        return False

    wall, _cpu = timed(socklab(kit, "test", "01", "--impl", str(tree)), kit, see)
    return wall, (first or [float("nan")])[0]


def measure_watch(kit: Path) -> float:
    """`socklab watch 01` on the kit's skeleton: once its first score is printed, a comment
    line is appended to server.c; the time until the next score line is the figure."""
    source = kit / "skeletons" / "01-tcp-hello" / "server.c"
    original = source.read_bytes()
    scores: list[float] = []

    def see(line: str, at: float) -> bool:
        if SCORE.match(line):
            scores.append(at)
            if len(scores) == 1:
                with source.open("a") as out:      # the one-line edit a student saves
                    out.write("/* edited */\n")
        return len(scores) >= 2

    try:
        timed(socklab(kit, "watch", "01"), kit, see, WATCH_LIMIT_S)
    finally:
        source.write_bytes(original)
    if len(scores) < 2:
        return float("nan")
    return scores[1] - scores[0]


def measure_class(kit: Path, scratch: Path, size: int) -> float:
    subs = scratch / "class"
    shutil.rmtree(subs, ignore_errors=True)
    for number in range(size):
        shutil.copytree(kit / "solutions", subs / f"student-{number:03d}")
    wall, _cpu = timed(socklab(kit, "grade", str(subs), *SIX_LABS, "-o",
                               str(scratch / "class-out")), kit)
    return wall / size * CLASS_SCALE


def measure_make(kit: Path, target: str) -> float:
    wall, _cpu = timed(["make", target], kit)
    return wall


def measure(kit: Path, scratch: Path, args: argparse.Namespace) -> dict[str, float]:
    """Every figure for one kit."""
    got: dict[str, float] = {}
    got["ref-01"], _ = measure_ref(kit, ["01"])
    got["ref-06"], _ = measure_ref(kit, ["06"])
    got["ref-01-06"], got["cpu-per-student"] = measure_ref(kit, SIX_LABS)
    got["skel-01"], got["skel-01-first-fail"] = measure_skeleton(kit, scratch)
    got["watch-01"] = measure_watch(kit)
    got["class-of-100"] = measure_class(kit, scratch, args.class_size)
    if args.full:
        got["make-class"] = measure_make(kit, "class")
        got["make-test"] = measure_make(kit, "test")
    return got


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = runs[0].keys()
    return {key: min((run[key] for run in runs if run[key] == run[key]), default=float("nan"))
            for key in keys}


def show(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("baseline", nargs="?", default="1c021b4")
    parser.add_argument("--new", default="HEAD", help="the revision measured (default HEAD)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--class-size", type=int, default=CLASS_SIZE)
    parser.add_argument("--full", action="store_true", help="also make class and make test")
    args = parser.parse_args()
    if args.runs < 1 or args.class_size < 1:
        parser.error("--runs and --class-size must be at least 1")
    scratch = Path(tempfile.mkdtemp(prefix="socklab-speed-"))
    try:
        kits = {name: export(rev, scratch / name / "kit")
                for name, rev in (("baseline", args.baseline), ("new", args.new))}
    except subprocess.CalledProcessError as error:
        shutil.rmtree(scratch)
        print(f"speed_bench: cannot export a revision: {error.stderr.decode().strip()}",
              file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    print(f"speed_bench: baseline {args.baseline} vs {args.new}, {os.cpu_count()} cores, "
          f"load {load:.2f} at the start, best of {args.runs}, class of {args.class_size} "
          f"scaled to {CLASS_SCALE}", flush=True)
    results: dict[str, list[dict[str, float]]] = {"baseline": [], "new": []}
    for _run in range(args.runs):
        for name, kit in kits.items():   # alternate, so a drift of the machine hits both
            results[name].append(measure(kit, scratch / name, args))
            print(f"  {name}: run done", flush=True)
    base, new = best(results["baseline"]), best(results["new"])
    print(f"\n{'figure':<38} {'baseline':>9} {'new':>9} {'new/base':>9}  target")
    for figure in FIGURES:
        if figure.key not in new:
            continue
        before, after = base.get(figure.key), new[figure.key]
        ratio = after / before if before and before == before and after == after else None
        print(f"{figure.what:<38} {show(before):>9} {show(after):>9} "
              f"{(f'{ratio:.2f}x' if ratio else '-'):>9}  {figure.target} ({figure.unit})")
    print(f"load {os.getloadavg()[0]:.2f} at the end")
    shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
