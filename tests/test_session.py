"""session.py's end of a session: how long the server is waited for once the client has ended,
and how soon an ended program is seen."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent
SESSION = KIT / "labs" / "lib" / "session.py"
sys.path.insert(0, str(SESSION.parent))
import session  # noqa: E402

SEP = "\x1f"          # session.py's ARGV_SEP: the words of one command line
GRACE_S = 1.0         # the server's grace in these tests (the default, 3 s, is slow to wait)
SESSION_DEADLINE_S = 20.0

# A server that binds its port and then waits forever, as the reference does for a client that
# never connects.
WAITING_SERVER = SEP.join([
    sys.executable, "-c",
    "import socket, sys, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "time.sleep(3600)\n",
    "{port}"])


def client_exiting(status: int) -> str:
    return SEP.join(["/bin/sh", "-c", f"exit {status}"])


def run_session(out: Path, *extra: str) -> float:
    """Runs one session outside the sandbox; returns how long it took."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("SOCKLAB_", "BATS_"))}
    started = time.monotonic()
    subprocess.run([sys.executable, str(SESSION), "--out", str(out), "--proto", "tcp",
                    "--server", WAITING_SERVER, "--server-grace", str(GRACE_S), *extra],
                   env=env, check=True, timeout=SESSION_DEADLINE_S)
    return time.monotonic() - started


def status(out: Path, name: str) -> str:
    return (out / f"{name}.status").read_text().strip()


def test_a_reference_server_is_not_waited_for_once_its_client_failed(tmp_path: Path) -> None:
    took = run_session(tmp_path, "--client", client_exiting(1), "--server-is-reference")
    transcript = (tmp_path / "transcript").read_text()
    assert status(tmp_path, "client") == "exit 1"
    assert status(tmp_path, "server") == "timeout"
    assert "the client failed (exit 1): the reference server gets 0.5 s to end" in transcript
    assert "killed server: still running after 0.5 s" in transcript
    assert took < GRACE_S + 5.0, f"the session took {took:.1f} s"


@pytest.mark.parametrize("extra", [["--client", client_exiting(0), "--server-is-reference"],
                                   ["--client", client_exiting(1)]],
                         ids=["reference-after-a-passing-client", "student-server"])
def test_the_server_gets_its_whole_grace_otherwise(tmp_path: Path, extra: list[str]) -> None:
    """A passing client may still be waiting for the reference's last words; a student's
    server is graded on how it ends, so it gets the grace whatever its client did."""
    took = run_session(tmp_path, *extra)
    transcript = (tmp_path / "transcript").read_text()
    assert "the reference server gets" not in transcript
    assert f"killed server: still running after {GRACE_S:g} s" in transcript
    assert took >= GRACE_S, f"the session took {took:.2f} s, less than the server's grace"


def no_sleeping_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """time.sleep fails in the test's own thread: the wait under test must not poll. Other
    threads of the session (test_invariants.py's grader runs, waiting on their own programs
    through Popen, which sleeps) sleep as before: they once failed in this window."""
    real_sleep, mine = time.sleep, threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == mine:
            raise AssertionError(f"time.sleep({seconds}) while waiting for a program: it polls")
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)


def test_an_ended_program_is_seen_at_once_not_at_a_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """Popen.wait with a timeout sleeps up to 50 ms between looks, and lab 08's speed test
    times 16 MiB (80 ms) from the stamp written once the wait returns: session.wait_exit
    sleeps on the process itself (a pidfd), never polls."""
    program = subprocess.Popen(["sleep", "0.1"])
    no_sleeping_here(monkeypatch)
    session.wait_exit(program, 10.0)
    assert program.returncode == 0


def test_waiting_past_the_deadline_raises_as_popen_does(monkeypatch: pytest.MonkeyPatch) -> None:
    program = subprocess.Popen(["sleep", "60"])
    try:
        no_sleeping_here(monkeypatch)
        with pytest.raises(subprocess.TimeoutExpired):
            session.wait_exit(program, 0.05)
        assert program.returncode is None
    finally:
        program.kill()
        session.wait_exit(program, 10.0)
    assert program.returncode == -9


def test_a_program_already_reaped_is_not_waited_for() -> None:
    program = subprocess.Popen(["true"])
    program.wait()
    session.wait_exit(program, 0.0)
    assert program.returncode == 0
