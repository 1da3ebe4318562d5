#!/usr/bin/python3
"""One Python start per test file: runs the harness's tools (session, chatroom, tftppeer,
filecheck, relaylog) for socklab.bash's harness_python, each in a fork of one warm process.

    python3 -m harness_server FIFO

A Python start with session.py's imports costs ~50 ms of CPU, and a lab's tests start a session
dozens of times. This server starts once, in setup_file; each tool runs in a child forked from
it, which finds Python started and the tool's modules already imported (the server imports a
module when it is first asked for, before forking: later children share it). The child is a
fresh process as far as the tool can tell: its own argv, folder, environment and process group;
stdin /dev/null; stdout and stderr into files.

Requests arrive on FIFO, one a line: the path REQ of a request file that harness_python wrote,
NUL-terminated fields:

    CWD  MODULE  N  ARG1 ... ARGN  NAME=VALUE ...      (the environment: every exported variable)

For each, the server forks a child that runs MODULE.main([ARG1, ..., ARGN]) with stdout into
REQ.out and stderr into REQ.err, and appends its pid to the `pids` file beside REQ (the child
leads its own process group, so that a test's teardown kills it and what it started). When the
child has ended, the server writes its exit status into REQ.status (128+N for a signal N, as a
shell says) and wakes the caller through the FIFO REQ.done, which the caller made and holds
open. The server never exits on its own: teardown_file kills it.

A child ends as the interpreter's exit would end it (its other threads waited for, atexit
functions, stdout and stderr flushed) but without the interpreter's teardown, which would free
every object the server imported: touching each one's memory, the child would copy every page
it shares with the server (~2,000 page faults, ~6.5 ms of CPU a tool, for nothing).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import select
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

SIGNAL_BASE = 128        # a child killed by signal N reports 128+N, as a shell does
READ_BYTES = 1 << 16


@dataclass(frozen=True)
class Request:
    path: Path
    cwd: str
    module: str
    args: list[str]
    env: dict[str, str]


def read_request(path: Path) -> Request:
    """The request in file `path` (ValueError when it is not one)."""
    fields = path.read_bytes().decode("utf-8", "surrogateescape").split("\0")
    if fields[-1] != "" or len(fields) < 4:
        raise ValueError(f"harness_server: {path} is not a request")
    cwd, module, count, *rest = fields[:-1]
    args, env_entries = rest[:int(count)], rest[int(count):]
    env = dict(entry.split("=", 1) for entry in env_entries if "=" in entry)
    return Request(path=path, cwd=cwd, module=module, args=args, env=env)


def run_child(request: Request) -> int:
    """In the forked child: becomes the tool's process and runs it; returns its exit status."""
    os.setsid()
    with open(request.path.parent / "pids", "a") as pids:
        pids.write(f"{os.getpid()}\n")
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(f"{request.path}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(f"{request.path}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for source, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
        os.close(source)
    if not request.module:
        print(f"harness_server: {request.path} is not a request it can run", file=sys.stderr)
        return 1
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    try:
        module = importlib.import_module(request.module)
        sys.argv = [module.__file__ or request.module, *request.args]
        status = module.main(request.args)
    except SystemExit as stop:     # what `python3 -m MODULE` would do with it
        if stop.code is None or isinstance(stop.code, int):
            status = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            status = 1
    except BaseException:          # noqa: BLE001 — a tool's crash is its caller's to see
        traceback.print_exc()
        status = 1
    return int(status or 0)


def leave(status: int) -> NoReturn:
    """Ends the child with `status`: what the interpreter does at exit, less its teardown."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed or broken stream: nothing left to save
            pass
    os._exit(status)


def finish(request: Request, wait_status: int) -> None:
    """In the server, once the child of `request` has ended: its status, then the wake-up."""
    if os.WIFSIGNALED(wait_status):
        status = SIGNAL_BASE + os.WTERMSIG(wait_status)
    else:
        status = os.WEXITSTATUS(wait_status)
    written = Path(f"{request.path}.status.new")
    written.write_text(f"{status}\n")
    written.rename(f"{request.path}.status")
    try:   # the caller holds REQ.done open; a caller killed meanwhile has nobody to wake
        wake = os.open(f"{request.path}.done", os.O_WRONLY | os.O_NONBLOCK)
        os.write(wake, b"\n")
        os.close(wake)
    except OSError:
        pass


def serve(fifo: str) -> NoReturn:
    """The server's loop; a child leaves from it with its tool's exit status."""
    requests = os.open(fifo, os.O_RDWR)       # read-write: never an end of file
    woken, wake = os.pipe()                   # SIGCHLD's wake-up (signal.set_wakeup_fd)
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    running: dict[int, Request] = {}
    pending = b""
    while True:
        ready, _, _ = select.select([requests, woken], [], [])
        if woken in ready:
            os.read(woken, READ_BYTES)
            while running:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if pid in running:
                    finish(running.pop(pid), wait_status)
        if requests not in ready:
            continue
        pending += os.read(requests, READ_BYTES)
        *lines, pending = pending.split(b"\n")
        for line in lines:
            path = Path(os.fsdecode(line))
            try:
                request = read_request(path)
            except (OSError, ValueError):   # the child says so, in REQ.err
                request = Request(path=path, cwd="/", module="", args=[], env={})
            try:
                importlib.import_module(request.module)   # once; its children share it
            except Exception:          # noqa: BLE001 — the child imports it again, and says why
                pass
            # What exists now (the imported modules) is never collected: a child's garbage
            # collections then skip it, instead of touching, and so copying, every page of
            # memory it shares with this server.
            gc.freeze()
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for descriptor in (requests, woken, wake):
                    os.close(descriptor)
                leave(run_child(request))
            running[pid] = request


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: harness_server FIFO", file=sys.stderr)
        return 2
    serve(args[0])


if __name__ == "__main__":
    sys.exit(main())
