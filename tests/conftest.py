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

PYTHON = "/usr/bin/python3"
GRADE_DEADLINE_S = 1800


def grade(impl: Path, labs: list[str], json_path: Path, *extra: str,
          root: Path = KIT) -> tuple[int, dict[str, Any], str]:
    """Runs `socklab test` as a user would; returns its exit status, JSON and text output."""
    proc = subprocess.run(
        [PYTHON, "-m", "grader", "--root", str(root), "test", *labs, "--impl", str(impl),
         "--json", str(json_path), "--brief", *extra],
        cwd=KIT, capture_output=True, text=True, timeout=GRADE_DEADLINE_S,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(KIT), "NO_COLOR": "1"})
    data = json.loads(json_path.read_text()) if json_path.exists() else {}
    return proc.returncode, data, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def kit() -> Path:
    return KIT
