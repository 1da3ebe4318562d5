"""labs/lib/harness_server.py, the one Python of a test file: each request runs a tool's main()
in a fork with the caller's arguments, folder and environment, its output in files, and its
exit status as `python3 -m TOOL` would give it (128+N for a signal). These tests play
socklab.bash's harness_python (the request file, the line on the FIFO, the wake-up FIFO) and
run a probe tool of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import KIT, PYTHON

DEADLINE_S = 10.0
PROBE = '''
import atexit, os, sys, threading, time

def main(argv):
    what = argv[0]
    if what == "echo":          # its arguments, folder and one variable; status from argv
        print(" ".join(argv[1:]), os.getcwd(), os.environ.get("PROBE_VALUE"), sep="|")
        print("to stderr", file=sys.stderr)
        return int(os.environ.get("PROBE_STATUS", "0"))
    if what == "exit-text":
        raise SystemExit("probe: refused")
    if what == "crash":
        raise RuntimeError("probe crashed")
    if what == "sleep":         # whether it leads its own process group, and its pid
        print(os.getpgrp() == os.getpid(), os.getpid(), flush=True)
        time.sleep(float(argv[1]))
        return 0
    if what == "exit-work":     # what the interpreter's exit must still do after main()
        print("buffered", end="")
        atexit.register(print, "atexit ran", file=sys.stderr)
        late = threading.Thread(target=lambda: (time.sleep(0.2), print(" thread ended")))
        late.start()
        return 4
    if what == "kill-self":
        os.kill(os.getpid(), 9)
    return 3
'''


@dataclass
class Server:
    fifo: Path
    folder: Path
    proc: subprocess.Popen[bytes]
    calls: int = 0
    wakes: dict[Path, int] = field(default_factory=dict)   # REQ -> its REQ.done, held open

    def ask(self, module: str, *args: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> Path:
        """Sends a request as harness_python does; returns its path (REQ)."""
        self.calls += 1
        request = self.folder / f"req.{self.calls}"
        fields = [str(cwd or self.folder), module, str(len(args)), *args,
                  *(f"{name}={value}" for name, value in (env or {}).items())]
        request.write_bytes(b"".join(field.encode() + b"\0" for field in fields))
        os.mkfifo(f"{request}.done")
        self.wakes[request] = os.open(f"{request}.done", os.O_RDWR)   # before asking
        with open(self.fifo, "w") as line:
            line.write(f"{request}\n")
        return request

    def result(self, request: Path) -> tuple[int, str, str]:
        """Waits for REQ.status; returns the status, stdout and stderr."""
        end = time.monotonic() + DEADLINE_S
        status = Path(f"{request}.status")
        while not status.exists():
            assert time.monotonic() < end, f"no answer to {request} within {DEADLINE_S} s"
            time.sleep(0.01)
        return (int(status.read_text()), Path(f"{request}.out").read_text(),
                Path(f"{request}.err").read_text())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "probe.py").write_text(PROBE)
    folder = tmp_path / "harness"
    folder.mkdir()
    fifo = tmp_path / "harness.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [PYTHON, "-m", "harness_server", str(fifo)], stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path}:{KIT / 'labs' / 'lib'}"})
    made = Server(fifo=fifo, folder=folder, proc=proc)
    try:
        yield made
    finally:
        proc.kill()
        proc.wait()
        for wake in made.wakes.values():
            os.close(wake)
        for line in (folder / "pids").read_text().split() if (folder / "pids").exists() else []:
            try:
                os.killpg(int(line), signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_tool_runs_with_the_callers_arguments_folder_and_environment(
        server: Server, tmp_path: Path) -> None:
    work = tmp_path / "work with space"
    work.mkdir()
    request = server.ask("probe", "echo", "a b", "", "c", cwd=work,
                         env={"PROBE_VALUE": "x=y", "PROBE_STATUS": "7"})
    status, out, err = server.result(request)
    assert (status, out, err) == (7, f"a b  c|{work}|x=y\n", "to stderr\n")


def test_exit_statuses_are_those_of_python_dash_m(server: Server) -> None:
    assert server.result(server.ask("probe", "exit-text"))[::2] == (1, "probe: refused\n")
    status, _out, err = server.result(server.ask("probe", "crash"))
    assert status == 1 and "RuntimeError: probe crashed" in err
    assert server.result(server.ask("probe", "kill-self"))[0] == 128 + signal.SIGKILL
    status, _out, err = server.result(server.ask("no_such_tool"))
    assert status == 1 and "No module named 'no_such_tool'" in err


def test_a_child_ends_as_the_interpreters_exit_would(server: Server) -> None:
    """Without the interpreter's teardown (harness_server.leave), but nothing of the exit lost:
    its threads waited for, its atexit functions run, its buffered output written."""
    status, out, err = server.result(server.ask("probe", "exit-work"))
    assert (status, out, err) == (4, "buffered thread ended\n", "atexit ran\n")


def test_a_request_it_cannot_read_is_refused(server: Server) -> None:
    request = server.folder / "broken"
    request.write_bytes(b"only one field")
    os.mkfifo(f"{request}.done")
    with open(server.fifo, "w") as line:
        line.write(f"{request}\n")
    status, _out, err = server.result(request)
    assert status == 1 and "is not a request" in err


def test_requests_run_side_by_side_each_in_a_process_group_teardown_can_kill(
        server: Server) -> None:
    slow = server.ask("probe", "sleep", "30")
    fast = server.ask("probe", "echo", "quick")
    assert server.result(fast)[0] == 0            # not behind the slow one
    pids = (server.folder / "pids").read_text().split()
    assert len(pids) == 2
    end = time.monotonic() + DEADLINE_S
    while Path(f"{slow}.out").read_text() == "":
        assert time.monotonic() < end
        time.sleep(0.01)
    # Each child writes its own pid to `pids`: in the order they get to it, not always the
    # order they were forked in. The slow one says which it is.
    leads, slow_pid = Path(f"{slow}.out").read_text().split()
    assert leads == "True"                        # it leads its own process group
    assert slow_pid in pids
    os.killpg(int(slow_pid), signal.SIGKILL)      # as a test's teardown does
    assert server.result(slow)[0] == 128 + signal.SIGKILL


def test_the_caller_is_woken_through_its_fifo(server: Server) -> None:
    request = server.ask("probe", "echo", "wake")
    server.result(request)
    assert os.read(server.wakes[request], 1) == b"\n"   # written after the status
