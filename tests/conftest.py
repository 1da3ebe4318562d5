"""Shared fixtures for socklab's own tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

KIT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(KIT))

from grader.manifest import Manifest, load  # noqa: E402  (the kit's own, found through KIT)

PYTHON = "/usr/bin/python3"
GRADE_DEADLINE_S = 1800


CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(KIT)}


def socklab(*args: str, root: Path = KIT, env: dict[str, str] | None = None,
            timeout: float = GRADE_DEADLINE_S,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the grader's command line (`socklab ARGS`) on the kit at `root` as a user would:
    in a clean environment (plus `env`), `stdin` as its input; returns what it did."""
    return subprocess.run(
        [PYTHON, "-m", "grader", "--root", str(root), *args],
        cwd=KIT, capture_output=True, text=True, timeout=timeout, input=stdin,
        env={**CLEAN_ENV, **(env or {})})


def grade(impl: Path, labs: list[str], json_path: Path, *extra: str,
          root: Path = KIT) -> tuple[int, dict[str, Any], str]:
    """Runs `socklab test` as a user would; returns its exit status, JSON and text output."""
    proc = socklab("test", *labs, "--impl", str(impl), "--json", str(json_path), "--brief",
                   *extra, root=root, env={"NO_COLOR": "1"})
    data = json.loads(json_path.read_text()) if json_path.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def recording_lab(root: Path, variable: str) -> tuple[Manifest, Path, Path]:
    """A kit of one lab whose one test, [record], appends `variable` as Bats sees it (prefixed
    with x, so that an empty value shows) to a file: the manifest, the implementation tree to
    run it on, and that file. For checking what runner.run_lab tells Bats."""
    seen = root / "seen"
    tests = root / "kit" / "labs" / "01-fake" / "tests"
    tests.mkdir(parents=True)
    (root / "kit" / "labs" / "labs.toml").write_text(
        '[[lab]]\nid = "01"\nslug = "fake"\ntitle = "Fake"\n'
        '[[lab.test]]\nid = "record"\npoints = 1\n')
    (tests / "fake.bats").write_text(
        f'@test "[record] records {variable}" {{ echo "x${{{variable}:-}}" >>{seen}; }}\n')
    (root / "impl" / "01-fake").mkdir(parents=True)
    return load(root / "kit"), root / "impl", seen


@pytest.fixture(scope="session")
def kit() -> Path:
    return KIT
