"""An older Python gets one clear line, not a traceback (grader/python-check).

The launcher (`./socklab`) and the Makefile's targets ask grader/python-check first. Here it is
pointed at stubs that play an old, a new, a broken or a missing Python, through the variable
SOCKLAB_PYTHON_CHECK_WITH that only these tests set.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent
DEADLINE_S = 30


def stub(tmp_path: Path, version: str, name: str = "python3") -> Path:
    """An executable that answers the version question as a Python of `version` would."""
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def run(argv: list[str], python: Path, **locale: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "SOCKLAB_PYTHON_CHECK_WITH": str(python),
           "NO_COLOR": "1", **locale}
    return subprocess.run(argv, cwd=KIT, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=DEADLINE_S)


def test_old_python_gets_one_english_line(tmp_path: Path) -> None:
    python = stub(tmp_path, "3.10")
    done = run(["./socklab", "status"], python, LANG="en_US.UTF-8")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"socklab: Python 3.11 or newer is needed as {python} (this machine has 3.10): use "
        f"Debian 12 or Ubuntu 24.04, or the dev container (docs/first-day.md)\n")


@pytest.mark.parametrize("locale", [
    {"LANG": "ko_KR.UTF-8"},
    {"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"},
    {"LC_MESSAGES": "ko_KR.UTF-8"},
    {"LANG": "en_US.UTF-8", "LANGUAGE": "ko:en"},
    {"LANG": "fr_FR.UTF-8", "LANGUAGE": "fr:ko"},
    {"LANG": "en_US.UTF-8", "SOCKLAB_LANG": "ko"},
], ids=["LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANGUAGE-list", "SOCKLAB_LANG"])
def test_old_python_gets_one_korean_line_in_a_korean_locale(tmp_path: Path,
                                                             locale: dict[str, str]) -> None:
    python = stub(tmp_path, "3.9")
    done = run(["./socklab", "status"], python, **locale)
    assert done.returncode == 1
    assert done.stderr == (
        f"socklab: {python}은 Python 3.11 이상이어야 합니다(이 컴퓨터의 Python은 3.9입니다). "
        f"데비안 12나 우분투 24.04를 쓰거나 개발 컨테이너를 쓰세요(docs/first-day.ko.md).\n")


def test_c_locale_stays_english_whatever_language_says(tmp_path: Path) -> None:
    done = run(["./socklab", "status"], stub(tmp_path, "3.8"), LC_ALL="C", LANGUAGE="ko")
    assert done.stderr.startswith("socklab: Python 3.11 or newer is needed")


def test_socklab_lang_en_wins_over_a_korean_locale(tmp_path: Path) -> None:
    done = run(["./socklab", "status"], stub(tmp_path, "3.8"), LANG="ko_KR.UTF-8",
               SOCKLAB_LANG="en")
    assert done.stderr.startswith("socklab: Python 3.11 or newer is needed")


def test_python_2_and_4_compare_by_major_version(tmp_path: Path) -> None:
    check = str(KIT / "grader" / "python-check")
    assert run([check], stub(tmp_path, "2.7")).returncode == 1
    assert run([check], stub(tmp_path, "4.0")).returncode == 0
    assert run([check], stub(tmp_path, "3.11")).returncode == 0


def test_new_python_passes_silently_and_the_launcher_runs(tmp_path: Path) -> None:
    done = run(["./socklab", "--help"], stub(tmp_path, "3.12"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("usage: socklab")


def test_missing_python_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-python3"
    done = run(["./socklab", "status"], missing)
    assert done.returncode == 1
    assert done.stderr.startswith(f"socklab: {missing} is missing: install Debian's python3")
    assert len(done.stderr.splitlines()) == 1


def test_missing_python_is_fine_where_make_installs_it(tmp_path: Path) -> None:
    check = str(KIT / "grader" / "python-check")
    done = run([check, "--missing-ok"], tmp_path / "no-python3")
    assert (done.returncode, done.stderr) == (0, "")


def test_a_python_that_does_not_run_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n", encoding="utf-8")
    broken.chmod(0o755)
    done = run(["./socklab", "status"], broken)
    assert done.returncode == 1
    assert done.stderr == (f"socklab: {broken} does not run: reinstall Debian's python3 "
                           f"(apt-get install --reinstall python3)\n")


def test_make_targets_check_before_installing(tmp_path: Path) -> None:
    """`make class` (any target) stops at the check: one line from it, then make's own."""
    done = run(["make", "--no-print-directory", "class"], stub(tmp_path, "3.10"),
               LANG="en_US.UTF-8", MAKEFLAGS="")
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert lines[0].startswith("socklab: Python 3.11 or newer is needed"), done.stderr
    assert all(line.startswith("make: ***") for line in lines[1:]), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "examples/make_class.py" not in done.stdout   # nothing ran after the check


def test_the_real_python_passes() -> None:
    done = subprocess.run([str(KIT / "grader" / "python-check")], capture_output=True,
                          text=True, timeout=DEADLINE_S,
                          env={k: v for k, v in os.environ.items()
                               if k != "SOCKLAB_PYTHON_CHECK_WITH"})
    assert (done.returncode, done.stderr) == (0, "")
