"""The student's commands on a fake kit: status, hint, watch, reset."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from pathlib import Path

import conftest
from conftest import KIT, PYTHON
from test_cli import fake_kit

HINTED = """
[[lab]]
id = "01"
slug = "fake"
title = "Fake lab"
[[lab.test]]
id = "build"
points = 1
kind = "given"
[[lab.test]]
id = "works"
points = 3
hints = ["first nudge", "second, closer", "worked explanation"]
[[lab.test]]
id = "ref"
points = 2
[[lab]]
id = "02"
slug = "later"
title = "Later lab"
[[lab.test]]
id = "build"
points = 1
"""
WATCH_REACTION_S = 2.0       # the promise: a save is re-tested within 2 s


def student_kit(root: Path, answer: str = "no") -> Path:
    kit = fake_kit(root, manifest=HINTED)
    (kit / "labs" / "02-later" / "tests").mkdir(parents=True)
    (kit / "labs" / "02-later" / "tests" / "t.bats").write_text('@test "[build] ok" { true; }\n')
    for base in (kit / "skeletons", kit / ".pristine" / "skeletons"):
        (base / "01-fake").mkdir(parents=True)
        (base / "01-fake" / "answer").write_text("no\n")
        (base / "02-later").mkdir(parents=True)
    (kit / "skeletons" / "01-fake" / "answer").write_text(answer + "\n")
    return kit


def socklab(kit: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return conftest.socklab(*args, root=kit, timeout=120, stdin=stdin)


def test_status_shows_the_course_and_the_next_lab(tmp_path: Path) -> None:
    kit = student_kit(tmp_path / "kit")
    out = socklab(kit, "status").stdout
    assert "01-fake" in out and "02-later" in out and "not started" in out
    assert "Next: lab 01 fake" in out
    (kit / "skeletons" / "01-fake" / "answer").write_text("yes\n")
    assert socklab(kit, "test", "01").returncode == 0
    out = socklab(kit, "status").stdout
    assert "6/6  done" in out and "Next: lab 02 later" in out
    (kit / "skeletons" / "01-fake" / "answer").write_text("maybe\n")
    assert "changed since the last check" in socklab(kit, "status").stdout


def test_hints_come_one_at_a_time_for_the_first_failing_test(tmp_path: Path) -> None:
    kit = student_kit(tmp_path / "kit")
    first = socklab(kit, "hint", "01").stdout
    assert "[works]" in first and "Hint 1 of 3: first nudge" in first
    second = socklab(kit, "hint", "1").stdout
    assert "Hint 2 of 3: second, closer" in second and "first nudge" not in second
    socklab(kit, "hint", "01")
    last = socklab(kit, "hint", "01").stdout
    assert "Hint 3 of 3: worked explanation" in last and "again" not in last


def test_no_hint_needed_when_everything_passes(tmp_path: Path) -> None:
    kit = student_kit(tmp_path / "kit", answer="yes")
    assert "no hint needed" in socklab(kit, "hint", "01").stdout


def test_reset_asks_keeps_a_backup_and_restores(tmp_path: Path) -> None:
    kit = student_kit(tmp_path / "kit", answer="my work")
    refused = socklab(kit, "reset", "01")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert (kit / "skeletons" / "01-fake" / "answer").read_text() == "my work\n"
    done = socklab(kit, "reset", "01", "--yes")
    assert done.returncode == 0, done.stderr
    assert (kit / "skeletons" / "01-fake" / "answer").read_text() == "no\n"
    backups = list((kit / "build" / "backup").glob("01-fake-*/answer"))
    assert [b.read_text() for b in backups] == ["my work\n"]


def test_watch_retests_within_two_seconds_of_a_save_and_stops_on_ctrl_c(
        tmp_path: Path) -> None:
    kit = student_kit(tmp_path / "kit")
    # Ctrl-C reaches a program in the terminal's foreground, whose SIGINT is at its default;
    # a suite started in the background (`make test &`) ignores SIGINT, and so would watch.
    watcher = subprocess.Popen(
        [PYTHON, "-m", "grader", "--root", str(kit), "watch", "01", "--interval", "0.1"],
        cwd=KIT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(KIT)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert watcher.stdout is not None
    ready = selectors.DefaultSelector()
    ready.register(watcher.stdout, selectors.EVENT_READ)
    seen = [""]   # everything printed so far; raw reads, so no line hides in a buffer

    def read_until(text: str, deadline_s: float) -> float:
        start = len(seen[0])
        end = time.monotonic() + deadline_s
        while text not in seen[0][start:]:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"watch did not print {text!r} within {deadline_s} s; "
                                     f"it printed:\n{seen[0]}")
            if ready.select(timeout=left):
                seen[0] += os.read(watcher.stdout.fileno(), 65536).decode()  # type: ignore
        return time.monotonic()

    try:
        read_until("Score: 3/6", 60)
        (kit / "skeletons" / "01-fake" / ".answer.swp").write_text("editor litter")
        saved = time.monotonic()
        (kit / "skeletons" / "01-fake" / "answer").write_text("yes\n")
        reacted = read_until("answer: testing 01-fake", 10)
        assert reacted - saved < WATCH_REACTION_S
        read_until("Score: 6/6", 60)
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=10) == 0
    finally:
        if watcher.poll() is None:
            os.kill(watcher.pid, signal.SIGKILL)
            watcher.wait()
