#!/usr/bin/python3
"""Benchmark: the cost of grading a class, as the class grows.

Grades N copies of the sample class's complete student (the reference solutions) for each N,
and prints the time per submission. The cost should grow linearly: the time per submission
stays flat while N doubles.

    tests/bench/class_bench.py [--sizes 25 50 100] [--labs 01 ...] [-j JOBS]

By default it grades every lab; `--labs 01` measures one lab, which is enough to see the
shape in a few minutes. Prints figures only: a benchmark, never a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]


def grade(size: int, labs: list[str], jobs: int, scratch: Path) -> float:
    subs = scratch / f"class-{size}"
    for number in range(size):
        shutil.copytree(KIT / "solutions", subs / f"student-{number:03d}")
    started = time.monotonic()
    done = subprocess.run([str(KIT / "socklab"), "grade", str(subs), *labs, "-j", str(jobs),
                           "-o", str(scratch / f"out-{size}")],
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"grading {size} students failed:\n{done.stderr}")
    rows = (scratch / f"out-{size}" / "gradebook.csv").read_text().splitlines()[1:]
    full = {row.split(",")[-3] == row.split(",")[-2] for row in rows}
    if full != {True}:
        sys.exit(f"a copy of the reference lost points in the class of {size}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100])
    parser.add_argument("--labs", nargs="*", default=[])
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    print(f"grading copies of the complete student, labs: {' '.join(args.labs) or 'all'}, "
          f"{args.jobs} at once, on {len(os.sched_getaffinity(0))} cores")
    print(f"{'students':>8}  {'total':>9}  {'per submission':>14}  {'vs. smallest':>12}")
    base = None
    with tempfile.TemporaryDirectory(prefix="socklab-bench-") as scratch:
        for size in args.sizes:
            elapsed = grade(size, args.labs, args.jobs, Path(scratch))
            per = elapsed / size
            base = base or per
            print(f"{size:>8}  {elapsed:>8.1f}s  {per:>13.2f}s  {per / base:>11.2f}x",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
