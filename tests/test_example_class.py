"""The sample class that README's first command grades: built from examples/class.toml, it
gets the gradebook its students deserve, and its hostile student leaves nothing running."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import pytest

from conftest import KIT, PYTHON, socklab
from grader.manifest import load

LAB = load(KIT).find("01").without_hidden()


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


@pytest.mark.alone      # its hostile student's server spins: conftest.py
def test_sample_class_gets_the_gradebook_it_deserves(tmp_path: Path) -> None:
    subs, out, scratch = tmp_path / "class", tmp_path / "out", tmp_path / "tmp"
    scratch.mkdir()
    built = subprocess.run([PYTHON, "examples/make_class.py", str(subs)], cwd=KIT,
                           capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    graded = socklab("grade", str(subs), "01", "-o", str(out), env={"TMPDIR": str(scratch)},
                     timeout=900)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(out / "gradebook.csv", newline=""))}
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
    assert (out / "report.html").exists() and (out / "junit" / "park-buggy.xml").exists()
    assert left_running(scratch) == []
