"""The sample class that README's first command grades: built from examples/class.toml, it
gets the gradebook its students deserve, and its hostile student leaves nothing running.

The grade call starts as soon as the tests are collected (conftest.py calls begin_early): its
hostile student's server spins for most of its 40 s, and so do the hostile submissions of
test_hostile.py's first part, so the two go on side by side rather than one after the other
(both come before test_invariants.py's grader runs, which must not run beside spinners)."""

from __future__ import annotations

import csv
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import KIT, PYTHON, EarlyWork, socklab
from grader.manifest import load

LAB = load(KIT).find("01").without_hidden()
CLASS_DEADLINE_S = 900


@dataclass(frozen=True)
class ClassGrade:
    built: subprocess.CompletedProcess[str]             # examples/make_class.py
    graded: subprocess.CompletedProcess[str] | None     # socklab grade, once the class is built
    out: Path
    scratch: Path                                       # the grade call's TMPDIR


def points(*test_ids: str) -> int:
    return sum(t.points for t in LAB.tests if t.id in test_ids)


def left_running(scratch: Path) -> list[str]:
    """Programs still running from the build folder of the class run whose TMPDIR was
    `scratch` (its socklab-class-*): this run's alone, whatever else the machine runs."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            program = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if program.startswith(f"{scratch}/socklab-class-"):
            found.append(f"{pid} {program}")
    return found


def grade_the_class(root: Path) -> ClassGrade:
    """README's first command, `make class`, in its two steps, in `root`."""
    subs, out, scratch = root / "class", root / "out", root / "tmp"
    scratch.mkdir()
    built = subprocess.run([PYTHON, "examples/make_class.py", str(subs)], cwd=KIT,
                           capture_output=True, text=True, timeout=60)
    if built.returncode != 0:
        return ClassGrade(built, None, out, scratch)
    graded = socklab("grade", str(subs), "01", "-o", str(out), env={"TMPDIR": str(scratch)},
                     timeout=CLASS_DEADLINE_S)
    return ClassGrade(built, graded, out, scratch)


CLASS = EarlyWork("example-class", grade_the_class)


def begin_early(items: list[pytest.Item]) -> None:
    """Called by conftest.py once the tests are collected: the grade call starts."""
    CLASS.start()


def end_early() -> None:
    """Called by conftest.py when the session ends (CLASS_DEADLINE_S bounds a call going on)."""
    CLASS.end()


@pytest.mark.alone      # its hostile student's server spins: conftest.py
def test_sample_class_gets_the_gradebook_it_deserves() -> None:
    run = CLASS.start().result()
    assert run.built.returncode == 0 and run.graded is not None, run.built.stderr
    graded = run.graded
    assert graded.returncode == 0, graded.stdout + graded.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(run.out / "gradebook.csv", newline=""))}
    full = LAB.max_points
    assert {name: int(row["01-tcp-hello"]) for name, row in rows.items()} == {
        "kim-complete": full,
        "lee-partial": full,
        "park-buggy": full - points("valgrind"),                 # the descriptor it leaks
        "choi-no-build": 0,
        # only the reference client's tests: the hostile server earns nothing
        "jung-hostile": points("build", "ref-server", "no-server", "silent-server"),
    }
    assert "kim-complete" in graded.stdout and "report:" in graded.stdout
    assert (run.out / "report.html").exists() and (run.out / "junit" / "park-buggy.xml").exists()
    assert left_running(run.scratch) == []
