#!/usr/bin/python3
"""Benchmark: the cost of grading a class, as the class grows.

Grades N copies of the sample class's complete student (the reference solutions) for each N,
and prints the time per submission. The cost should grow linearly: the time per submission
stays flat while N doubles.

    tests/bench/class_bench.py [--sizes 25 50 100] [--labs 01 ...] [-j JOBS]

By default it grades every lab; `--labs 01` measures one lab, which is enough to see the
shape in a few minutes. `-j` defaults to `socklab grade`'s own default (two runs a core).
Every copy must earn full marks: otherwise it names each test a copy lost, with its reason,
keeps the outputs and exits 1 (docs/instructor-guide.md, "How long grading takes", has the
figures, and why the default is two runs a core).
Prints figures only: a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]


def lost_points(out: Path) -> list[str]:
    """Every test a copy of the reference did not pass, with its reason (from students/*.json)."""
    lost = []
    for path in sorted((out / "students").glob("*.json")):
        student = json.loads(path.read_text())
        if student["error"]:
            lost.append(f"{student['student']}: {student['error']}")
        for lab in student["labs"]:
            lost += [f"{student['student']} {lab['name']} [{test['id']}] {test['status']}: "
                     f"{test['reason']}"
                     for test in lab["tests"] if test["points"] != test["max_points"]]
    return lost


def grade(size: int, labs: list[str], jobs: int | None,
          scratch: Path) -> tuple[float, list[str]]:
    """Grades `size` copies; returns the time it took and what any copy lost."""
    subs = scratch / f"class-{size}"
    for number in range(size):
        shutil.copytree(KIT / "solutions", subs / f"student-{number:03d}")
    out = scratch / f"out-{size}"
    started = time.monotonic()
    chosen_jobs = ["-j", str(jobs)] if jobs else []
    done = subprocess.run([str(KIT / "socklab"), "grade", str(subs), *labs, *chosen_jobs,
                           "-o", str(out)],
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if not (out / "gradebook.csv").exists():
        sys.exit(f"grading {size} students failed (exit {done.returncode}; submissions kept "
                 f"in {scratch}):\n{done.stderr}")
    return elapsed, lost_points(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--labs", nargs="*", default=[])
    parser.add_argument("-j", "--jobs", type=int, default=None)
    args = parser.parse_args()
    print(f"grading copies of the complete student, labs: {' '.join(args.labs) or 'all'}, "
          f"{args.jobs or 'the default number of runs'} at once, "
          f"on {len(os.sched_getaffinity(0))} cores")
    print(f"{'students':>8}  {'total':>9}  {'per submission':>14}  {'vs. smallest':>12}")
    base = None
    scratch = Path(tempfile.mkdtemp(prefix="socklab-bench-"))
    lost: list[str] = []
    for size in args.sizes:
        elapsed, lost_now = grade(size, args.labs, args.jobs, scratch)
        per = elapsed / size
        base = base or per
        print(f"{size:>8}  {elapsed:>8.1f}s  {per:>13.2f}s  {per / base:>11.2f}x"
              + (f"  {len(lost_now)} test(s) lost by copies of the reference" if lost_now else ""),
              flush=True)
        lost += lost_now
    if lost:
        # the reference earns full marks when run alone: a loss here is a verdict that
        # changed under load, worth reading whole (the outputs are kept for that)
        print("copies of the reference lost points (a figure above is not a clean run):",
              *lost, f"outputs kept in {scratch}", sep="\n  ", file=sys.stderr)
        return 1
    shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
