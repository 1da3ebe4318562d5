#!/usr/bin/python3
"""Drive lab 07's chat room: a server, many clients, and checks on every line each one got.

A chat room needs more than session.py's one server and one client: three to a hundred clients
at once, some of them the harness's own sockets that type, read and check every line, some the
lab's client programs, `nc` and `socat`, a relay, a client that never reads. This driver runs
one named check (see CHECKS) and writes what happened into a folder, as session.py does:

    check.result          "ok", or what the check expected, what happened, and where to look
    NAME.stdout/.stderr   what each program printed (NAME: server, client1, nc, relay, ...)
    NAME.status/.argv     how it ended; its command line, for "reproduce by hand"
    NAME.memcheck         with --valgrind/--sanitizers: "clean", or the first error found
    transcript            every program's output and the harness's steps, time-stamped
    pids                  every process group started, so Bats' teardown can kill leftovers

Every program starts through session.py's launch() (the sandbox, the clean environment, the
output caps, the process groups); the harness's clients are plain sockets in this process,
each with a thread that reads everything that arrives, so that they never slow the room down
unless a check wants one that does not read.

    chatroom.py CHECK --out DIR --cwd DIR --server PROGRAM [--client PROGRAM] [--relay ARGV]
                [--valgrind server,client] [--sanitizers]

PROGRAM is the path of the lab's server or client (its arguments are the check's own), ARGV a
command line with its words joined by session.ARGV_SEP.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import session
# Messages speak the grader's language (SOCKLAB_LANG, else the locale): session.py's `tr`, which
# is grader/i18n.py's `_`. The lines of the contract inside them stay as the contract says.
from session import Program, Transcript, mark, tr

LINE_S = session.LINE_DEADLINE_S   # an expected line may take this long to appear
CONNECT_S = 2.0                    # a connection to the room may take this long
START_S = session.BIND_DEADLINE_S  # a lab client's start, to its first line or its connection:
                                   # as long as a server may take to bind (a loaded machine,
                                   # the sandbox and a sanitizer build all slow a start)
STOP_S = 3.0                       # the server must end this long after SIGTERM
SEND_S = 2.0                       # a harness client's line must be taken within this long
EXIT_S = 3.0                       # a client program must end this long after its cause
SLOW = session.VALGRIND_SLOWDOWN   # every deadline under Valgrind is this many times longer
RECV_CHUNK = 65536
SHOWN_LINES = 12                   # lines of a client's input shown in a failure message
SHOWN_CHARS = 120                  # characters of one line shown in a failure message
LOAD_CLIENTS = 100                 # the contract's "at least 100 clients at once"
LOAD_LINES = 20                    # lines each of them sends
LOAD_DEADLINE_S = 30.0             # the whole exchange: the reference takes about 1 s
# A line of the load test as every other client receives it: compiled once, since it is matched
# against every line the 100 clients receive: 198,000 lines took 0.24 CPU-s with re.fullmatch
# and the pattern's text (a lookup in re's cache each time), 0.17 s with this.
LOAD_LINE = re.compile(r"(guest\d+): (guest\d+) line (\d+) of \d+")
BUSY_CLIENTS = 8                   # the one-thread check's room (fewer than a fixed array of 10)
BUSY_LINES = 50
SAMPLE_S = 0.005                   # how often the one-thread check looks at the server
SLOW_LINE = 4000                   # bytes of each line the talker sends to fill a slow reader
SLOW_MAX_BYTES = 512 << 20         # not dropped after this much: it never will be
SLOW_DEADLINE_S = 40.0
STALL_S = 2.0                      # a reader that gets nothing for this long: the room stalled
LINE_MAX = 4095                    # the longest line a client may send (the contract)
FLOOD_BYTES = 1 << 20              # the too-long check's line without a newline
FLOOD_CONNECTIONS = 200            # connects and disconnects in the flood check
FLOOD_BATCH = 20                   # ... connected at the same time
FD_SETTLE_S = 3.0                  # how long the server may take to close a gone client's socket


class CheckFailed(Exception):
    """The check's first broken expectation: what was expected, what happened, where to look."""


class ConnectionGone(CheckFailed):
    """A harness client could not send: the server had closed or reset its connection."""


def shown(text: str) -> str:
    """A line as a failure message shows it: quoted, and cut when long."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return tr("{text}... ({count} characters)").format(text=repr(text[:SHOWN_CHARS]),
                                                       count=len(text))


# --- the harness's own clients ------------------------------------------------------------

class Guest:
    """A client of the room played by the harness: a socket, and a thread that reads every line
    that arrives (unless `reads` is False: a client that never reads)."""

    def __init__(self, room: Room, host: str = "127.0.0.1", *, reads: bool = True,
                 rcvbuf: int | None = None, port: int | None = None, label: str = "") -> None:
        self.room = room
        self.host = host
        self.label = label or tr("a client over {host}").format(host=host)
        self.name = "?"                     # guestN, once the server has said
        self.lines: list[str] = []
        self.consumed = 0                   # lines already checked by expect()
        self.eof = False
        self.error: str | None = None
        self.closed = False                 # closed by the harness (it left, or vanished)
        self.arrived = threading.Condition()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf is not None:   # before connect(): the window offered depends on it
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(CONNECT_S * room.slow)
        try:
            self.sock.connect((host, port or room.port))
        except OSError as error:
            self.sock.close()
            ended = room.server.poll_status() if room.server else "running"
            state = (tr("is the server still listening (and on IPv6 and IPv4)?")
                     if ended == "running" else
                     tr("the server has ended: {status}").format(status=ended))
            raise CheckFailed(tr("{who} could not connect to the room at {host} port {port}: "
                                 "{error} — {state}").format(
                who=self.label, host=host, port=port or room.port,
                error=error.strerror or error, state=state)) from None
        self.sock.settimeout(None)
        room.guests.append(self)
        self.reader: threading.Thread | None = None
        if reads:
            self.reader = threading.Thread(target=self._read, daemon=True)
            self.reader.start()

    def _read(self) -> None:
        pending = b""
        while True:
            try:
                data = self.sock.recv(RECV_CHUNK)
            except OSError as error:
                with self.arrived:
                    self.error = error.strerror or str(error)
                    self.arrived.notify_all()
                return
            if not data:
                with self.arrived:
                    if pending:
                        self.lines.append(pending.decode("utf-8", "replace") + "  "
                                          + tr("[no newline]"))
                    self.eof = True
                    self.arrived.notify_all()
                return
            pending += data
            *complete, pending = pending.split(b"\n")
            if complete:
                with self.arrived:
                    self.lines.extend(raw.decode("utf-8", "replace") for raw in complete)
                    self.arrived.notify_all()

    # sending -----------------------------------------------------------------------------

    def send_bytes(self, data: bytes, within: float | None = None) -> None:
        """Sends all of `data`, or fails the check when the server does not take it in time
        (a server that stopped reading this client: blocked elsewhere)."""
        limit = (within if within is not None else SEND_S) * self.room.slow
        end = time.monotonic() + limit
        view = memoryview(data)
        while view:
            left = end - time.monotonic()
            _, writable, _ = select.select([], [self.sock], [], max(left, 0))
            if not writable:
                raise CheckFailed(tr(
                    "{who} could not send for {seconds} s: the server stopped reading its "
                    "connection ({taken} of {total} bytes taken). A server that waits on one "
                    "client (a blocking recv() or send()) stops reading all the others.").format(
                    who=self.who(), seconds=f"{limit:g}", taken=len(data) - len(view),
                    total=len(data)))
            try:
                sent = self.sock.send(view, socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError as error:
                raise ConnectionGone(tr("{who} could not send: {error} (the server closed or "
                                        "reset its connection)").format(
                    who=self.who(), error=error.strerror or error)) from None
            view = view[sent:]

    def send(self, text: str, *, quiet: bool = False) -> None:
        if not quiet:
            self.room.note(tr("{who} sends {text}").format(who=self.who(), text=shown(text)))
        self.send_bytes(text.encode() + b"\n")

    # receiving ---------------------------------------------------------------------------

    def who(self) -> str:
        return self.name if self.name != "?" else self.label

    def _wait(self, count: int, within: float) -> bool:
        """Waits until at least `count` lines arrived, or the end; True if they did."""
        end = time.monotonic() + within * self.room.slow
        with self.arrived:
            while len(self.lines) < count and not self.eof and self.error is None:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
            return len(self.lines) >= count

    def state(self) -> str:
        if self.error:
            return tr("its connection failed: {error}").format(error=self.error)
        if self.eof:
            return tr("the server closed its connection")
        return tr("its connection is still open")

    def expect(self, line: str, *, why: str = "", within: float = LINE_S) -> None:
        """The next line this client receives is exactly `line`."""
        if not self._wait(self.consumed + 1, within):
            raise CheckFailed(tr("{who} should have received {line}{why} within {seconds} s, "
                                 "but nothing more came ({state}).").format(
                who=self.who(), line=shown(line), why=why, seconds=f"{within * self.room.slow:g}",
                state=self.state()) + "\n" + self.report())
        got = self.lines[self.consumed]
        self.consumed += 1
        if got != line:
            raise CheckFailed(self.unexpected(line, got, why))

    def unexpected(self, line: str, got: str, why: str = "") -> str:
        """The message for a line received where `line` was due."""
        return tr("{who} should have received {line}{why}, but received {got}.").format(
            who=self.who(), line=shown(line), why=why, got=shown(got)) + "\n" + self.report()

    def join(self) -> str:
        """Reads the newcomer's first line, `* you are guestN`, and keeps the name."""
        if not self._wait(self.consumed + 1, LINE_S):
            raise CheckFailed(tr("{who} connected, but did not receive '* you are guestN' "
                                 "within {seconds} s ({state}).").format(
                who=self.label, seconds=f"{LINE_S * self.room.slow:g}", state=self.state()))
        got = self.lines[self.consumed]
        found = re.fullmatch(r"\* you are (guest\d+)", got)
        if not found:
            raise CheckFailed(tr("{who} connected; its first line should be '* you are guestN', "
                                 "but it was {got}.").format(who=self.label, got=shown(got)))
        self.consumed += 1
        self.name = found.group(1)
        self.room.note(tr("{label} is {name}").format(label=self.label, name=self.name))
        return self.name

    def expect_closed(self, why: str, within: float = LINE_S) -> None:
        """The server closes this client's connection (after the lines already checked)."""
        end = time.monotonic() + within * self.room.slow
        with self.arrived:
            while not self.eof and self.error is None and len(self.lines) <= self.consumed:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
            if len(self.lines) > self.consumed:
                raise CheckFailed(tr("{who} should have seen its connection closed ({why}), but "
                                     "first received {got}.").format(
                    who=self.who(), why=why, got=shown(self.lines[self.consumed]))
                    + "\n" + self.report())
            if not (self.eof or self.error):
                raise CheckFailed(tr("{who} should have seen its connection closed ({why}) within "
                                     "{seconds} s, but it is still open.").format(
                    who=self.who(), why=why, seconds=f"{within * self.room.slow:g}"))

    def report(self) -> str:
        """What this client received, for a failure message."""
        with self.arrived:
            lines = list(self.lines)
        if not lines:
            return "  " + tr("{who} ({label}) received no line.").format(who=self.who(),
                                                                         label=self.label)
        picked = lines[-SHOWN_LINES:]
        head = (tr("{who} ({label}) received {count} lines, the last {shown}:") if
                len(picked) < len(lines) else tr("{who} ({label}) received {count} lines:"))
        body = "\n".join(f"    {shown(line)}" for line in picked)
        return "  " + head.format(who=self.who(), label=self.label, count=len(lines),
                                  shown=len(picked)) + "\n" + body

    def all_lines(self, expected: list[str], why: str) -> None:
        """Everything this client received, from the start, is exactly `expected` (checked once
        the server has closed every connection, so nothing more can come)."""
        with self.arrived:
            got = list(self.lines)
        if self.name != "?":
            expected = [f"* you are {self.name}", *expected]
        if got == expected:
            return
        rows, first = [], ""
        for i in range(max(len(got), len(expected))):
            if i >= len(got):
                rows.append(f"    {mark('MISSING')}{shown(expected[i])}")
                first = first or line_missing(i, shown(expected[i]))
            elif i >= len(expected):
                rows.append(f"    {mark('UNEXPECTED')}{shown(got[i])}")
                first = first or line_unexpected(i, shown(got[i]))
            elif got[i] == expected[i]:
                rows.append(f"    {mark('GOOD')}{shown(got[i])}")
            else:
                rows.append(f"    {mark('BAD')}{shown(got[i])}\n    {mark('expected')}"
                            f"{shown(expected[i])}")
                first = first or line_bad(i, shown(got[i]), shown(expected[i]))
        raise CheckFailed(tr("{who} ({label}) did not receive exactly what it should ({why}): "
                             "{first}.").format(who=self.who(), label=self.label, why=why,
                                                first=first) + "\n" + "\n".join(rows[:40]))

    def close(self) -> None:
        """Ends its input and closes the connection, as a client that leaves does."""
        self.room.note(tr("{who} closes its connection").format(who=self.who()))
        self.closed = True
        # shutdown() first: close() alone would wait for the reading thread's recv() to return
        # before the kernel lets the connection go (and so would send nothing yet)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def reset(self) -> None:
        """Vanishes: SO_LINGER 0 turns close() into a reset (RST), as a crash would."""
        self.room.note(tr("{who} resets its connection").format(who=self.who()))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.closed = True
        if self.reader is not None:
            # SHUT_RD wakes the reading thread's recv() and sends nothing; then close() with
            # SO_LINGER 0 sends the reset
            try:
                self.sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            self.reader.join(timeout=1.0)
        self.sock.close()

    def expect_lines_until(self, last: str, filler: str) -> None:
        """Skips lines equal to `filler` until `last` (for checks whose timing decides how many
        filler lines come first); anything else fails."""
        while True:
            if not self._wait(self.consumed + 1, LINE_S):
                raise CheckFailed(self.nothing_came(last))
            got = self.lines[self.consumed]
            self.consumed += 1
            if got == last:
                return
            if got != filler:
                raise CheckFailed(self.unexpected(last, got))

    def nothing_came(self, line: str) -> str:
        """The message for a line that did not come in time."""
        return tr("{who} should have received {line} within {seconds} s ({state}).").format(
            who=self.who(), line=shown(line), seconds=f"{LINE_S * self.room.slow:g}",
            state=self.state()) + "\n" + self.report()

    def next_joined(self) -> str:
        """The next line is '* guestN joined'; returns guestN."""
        if not self._wait(self.consumed + 1, LINE_S):
            raise CheckFailed(tr("{who} should have received '* guestN joined' for a newcomer "
                                 "within {seconds} s ({state}).").format(
                who=self.who(), seconds=f"{LINE_S * self.room.slow:g}", state=self.state()))
        got = self.lines[self.consumed]
        self.consumed += 1
        found = re.fullmatch(r"\* (guest\d+) joined", got)
        if not found:
            raise CheckFailed(tr("{who} should have received '* guestN joined' for a newcomer, "
                                 "but received {got}.").format(who=self.who(), got=shown(got)))
        return found.group(1)


# --- the room: the server, the programs, the guests ----------------------------------------

class Room:
    """One check's world: the server under test, the programs and guests around it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out: Path = args.out
        self.cwd: Path = args.cwd
        self.transcript = Transcript()
        self.valgrind = set(filter(None, args.valgrind.split(",")))
        self.slow = SLOW if self.valgrind else 1.0
        self.programs: dict[str, Program] = {}
        self.guests: list[Guest] = []
        self.port = session.free_port("tcp")
        self.server: Program | None = None
        self.server_seen = 0          # server stdout lines already checked
        self.quiet = False            # the load checks note only their milestones

    def note(self, text: str) -> None:
        if not self.quiet:
            self.transcript.add("harness", text)

    # programs ----------------------------------------------------------------------------

    def launch(self, name: str, argv: list[str], *, lab: bool, stdin: bool = False,
               prefix: list[str] | None = None) -> Program:
        program = session.launch(
            name, argv, out=self.out, transcript=self.transcript, cwd=self.cwd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, sandboxed=lab, prefix=prefix,
            valgrind=lab and self.role(name) in self.valgrind,
            sanitizers=lab and self.args.sanitizers)
        self.programs[name] = program
        return program

    @staticmethod
    def role(name: str) -> str:
        return "server" if name.startswith("server") else "client"

    def start_server(self, program: str | None = None, port: int | None = None,
                     name: str = "server", prefix: list[str] | None = None) -> Program:
        server = self.launch(name, [program or self.args.server, str(port or self.port)],
                             lab=True, prefix=prefix)
        self.server = server
        self.server_seen = 0
        try:
            session.wait_bound(server, "tcp", port or self.port,
                               session.BIND_DEADLINE_S * self.slow)
        except session.SessionError as error:
            raise CheckFailed(tr("the server did not start: {error}").format(error=error)) \
                from None
        self.expect_server(f"Chat room open on port {port or self.port}.")
        return server

    def start_client(self, name: str, host: str, program: str | None = None) -> Program:
        return self.launch(name, [program or self.args.client, host, str(self.port)], lab=True,
                           stdin=True)

    def server_pid(self, program: Program | None = None) -> int:
        """The lab program's own process, inside the sandbox's wrappers (bubblewrap, its launcher,
        strace): the shallowest process named like the program (or Valgrind's tool)."""
        program = program or self.server
        assert program is not None
        wanted = Path(program_argv0(program)).name[:15]
        todo, seen = [program.proc.pid], []
        while todo:                              # breadth first: the shallowest match wins
            current = todo.pop(0)
            seen.append(current)
            try:
                comm = Path(f"/proc/{current}/comm").read_text().strip()
            except OSError:
                continue
            if comm == wanted or comm.startswith("memcheck"):
                return current
            todo.extend(children(current))
        return seen[-1]

    def expect_server(self, pattern: str | re.Pattern[str], why: str = "",
                      within: float = LINE_S) -> str:
        """The server prints a line that is `pattern` (a string: exactly; a regex: fully), after
        the lines already checked; the lines before it are other events, skipped."""
        assert self.server is not None
        server = self.server
        wanted = line_wanted(pattern)
        end = time.monotonic() + within * self.slow
        with server.line_added:
            while True:
                for index in range(self.server_seen, len(server.stdout_lines)):
                    got = server.stdout_lines[index]
                    if got == pattern if isinstance(pattern, str) else pattern.fullmatch(got):
                        self.server_seen = index + 1
                        return got
                left = end - time.monotonic()
                if left <= 0 or (server.proc.poll() is not None and not server._reading()):
                    break
                server.line_added.wait(min(left, 0.05))
            since = server.stdout_lines[self.server_seen:]
        state = program_state(server.poll_status())
        message = (tr("the server should have printed {line}{why} within {seconds} s ({state}); "
                      "since the last line checked it printed only:") if since else
                   tr("the server should have printed {line}{why} within {seconds} s ({state}); "
                      "since the last line checked it printed nothing."))
        printed = "".join(f"\n    {shown(line)}" for line in since[-SHOWN_LINES:])
        raise CheckFailed(message.format(line=wanted, why=why, seconds=f"{within * self.slow:g}",
                                         state=state) + printed + "\n"
                          + tr("(Is stdout flushed after each line? setvbuf(3))"))

    def signal_server(self, number: int) -> None:
        pid = self.server_pid()
        self.note(tr("sends {signal} to the server (pid {pid})").format(
            signal=signal.Signals(number).name, pid=pid))
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            raise CheckFailed(tr("the server had already ended before it was told to stop: "
                                 "{status}").format(
                status=self.server.poll_status() if self.server else "?")) from None

    def stop_server(self, number: int = signal.SIGTERM) -> None:
        """SIGTERM (or SIGINT): the server closes every connection, prints 'Chat room closed.'
        and exits 0; every guest still connected sees its connection end."""
        assert self.server is not None
        self.signal_server(number)
        name = signal.Signals(number).name
        self.expect_server("Chat room closed.", tr(" after {signal}").format(signal=name),
                           within=STOP_S)
        status = self.server.wait(STOP_S * self.slow)
        if status != "exit 0":
            raise CheckFailed(tr("after {signal} the server should exit 0; it ended with "
                                 "{status}").format(signal=name, status=status)
                              + hint_status(status))
        for guest in self.guests:
            if guest.reader is not None and not guest.closed:
                guest._wait(sys.maxsize, LINE_S)     # every line that comes, then the end
                if not (guest.eof or guest.error):
                    raise CheckFailed(tr("after {signal} the server should close every "
                                         "connection; that of {who} is still open {seconds} s "
                                         "later.").format(signal=name, who=guest.who(),
                                                          seconds=f"{LINE_S * self.slow:g}"))

    def server_lines(self, expected: list[str | re.Pattern[str]], why: str) -> None:
        """All the server printed, from the start, matches `expected` line by line."""
        assert self.server is not None
        got = list(self.server.stdout_lines)
        rows, first = [], ""
        for i in range(max(len(got), len(expected))):
            want = expected[i] if i < len(expected) else None
            text = want if isinstance(want, str) or want is None else f"/{want.pattern}/"
            if i >= len(got):
                rows.append(f"    {mark('MISSING')}{text}")
                first = first or line_missing(i, str(text))
            elif want is None:
                rows.append(f"    {mark('UNEXPECTED')}{shown(got[i])}")
                first = first or line_unexpected(i, shown(got[i]))
            elif (got[i] == want) if isinstance(want, str) else want.fullmatch(got[i]):
                rows.append(f"    {mark('GOOD')}{shown(got[i])}")
            else:
                rows.append(f"    {mark('BAD')}{shown(got[i])}\n    {mark('expected')}{text}")
                first = first or line_bad(i, shown(got[i]), str(text))
        if first:
            raise CheckFailed(tr("the server's output is not the contract's ({why}): {first}.")
                              .format(why=why, first=first) + "\n" + "\n".join(rows[:40]))

    # the end -----------------------------------------------------------------------------

    def finish(self, result: str) -> None:
        for guest in self.guests:
            try:
                guest.sock.close()
            except OSError:
                pass
        for program in self.programs.values():
            program.finish()
        for name, program in self.programs.items():
            lab = program.sandboxed
            if lab and self.role(name) in self.valgrind:
                log = self.out / f"{name}.valgrind"
                findings = session.valgrind_findings(log.read_text(errors="replace")) \
                    if log.exists() else [tr("Valgrind wrote no report")]
                (self.out / f"{name}.memcheck").write_text("\n".join(findings or ["clean"]) + "\n")
            elif lab and self.args.sanitizers:
                stderr = (self.out / f"{name}.stderr").read_text(errors="replace")
                findings = session.sanitizer_findings(stderr)
                (self.out / f"{name}.memcheck").write_text("\n".join(findings or ["clean"]) + "\n")
        (self.out / "check.result").write_text(result.rstrip("\n") + "\n")
        (self.out / "transcript").write_text("\n".join(self.transcript.lines) + "\n")


def program_argv0(program: Program) -> str:
    return Path(program.out / f"{program.name}.argv").read_text().split()[0]


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(child) for child in text.split())
    except OSError:
        pass
    return found


def hint_status(status: str) -> str:
    if status == "timeout":
        return tr(" (it was still running at the deadline: does SIGTERM wake up its poll()?)")
    if status == "signal SIGPIPE":
        return tr(" (SIGPIPE: a send() to a client that had gone; see MSG_NOSIGNAL in send(2))")
    if status == "signal SIGSEGV":
        return tr(" (a segmentation fault: an invalid pointer or an overrun buffer)")
    if status.startswith("signal"):
        return tr(" (it did not catch the signal: sigaction(2))")
    return ""


def line_missing(index: int, line: str) -> str:
    """A comparison's first difference: the line at `index` (from 0) did not come."""
    return tr("line {number} missing: {line}").format(number=index + 1, line=line)


def line_unexpected(index: int, line: str) -> str:
    return tr("line {number} unexpected: {line}").format(number=index + 1, line=line)


def line_bad(index: int, got: str, expected: str) -> str:
    return tr("line {number} is {got}, expected {expected}").format(number=index + 1, got=got,
                                                                    expected=expected)


def program_state(status: str) -> str:
    """How a program stands (session.Program.poll_status()), for a message."""
    return tr("it is still running") if status == "running" else \
        tr("it ended: {status}").format(status=status)


def line_wanted(wanted: str | re.Pattern[str]) -> str:
    """A line a program should print, for a message: the line, quoted, or the regex's form."""
    return shown(wanted) if isinstance(wanted, str) else \
        tr("a line like '{pattern}'").format(pattern=wanted.pattern)


def client_label(letter: str) -> str:
    """A harness client's name in messages: client A, client B..."""
    return tr("client {letter}").format(letter=letter)


def joined(name: str, address: str) -> re.Pattern[str]:
    """The server's line for a newcomer; ADDRESS must show where it came from."""
    return re.compile(rf"{name} joined from .*{re.escape(address)}.*")


# --- the checks ---------------------------------------------------------------------------

def check_room(room: Room) -> None:
    """Joins, a line to every other client, two lines in one segment, an empty line, a client
    that leaves, a newcomer named guest4 (never a reused name), and SIGTERM."""
    room.start_server()
    a = Guest(room, label=client_label("A"))
    a.join()
    room.expect_server(joined(a.name, "127.0.0.1"), tr(" (NAME joined from ADDRESS)"))
    b = Guest(room, label=client_label("B"))
    b.join()
    a.expect(f"* {b.name} joined", why=tr(" (a newcomer is announced to the others)"))
    c = Guest(room, label=client_label("C"))
    c.join()
    for guest in (a, b):
        guest.expect(f"* {c.name} joined")
    names = [a.name, b.name, c.name]
    if names != ["guest1", "guest2", "guest3"]:
        raise CheckFailed(tr("the first three clients should be guest1, guest2, guest3 (in "
                             "order of connection); they were {names}").format(
            names=", ".join(names)))
    a.send("hello, room")
    for guest in (b, c):
        guest.expect("guest1: hello, room", why=tr(" (a line reaches every other client)"))
    room.note(tr("{who} sends two lines in one segment").format(who=client_label("C")))
    c.send_bytes(b"first of two\nsecond of two\n")
    for guest in (a, b):
        guest.expect("guest3: first of two", why=tr(" (two lines in one segment are two lines)"))
        guest.expect("guest3: second of two")
    b.send("")
    for guest in (a, c):
        guest.expect("guest2: ", why=tr(" (an empty line is a line too)"))
    b.close()
    for guest in (a, c):
        guest.expect("* guest2 left", why=tr(" (a client that closes its connection has left)"))
    d = Guest(room, label=client_label("D"))
    d.join()
    if d.name != "guest4":
        raise CheckFailed(tr("after guest1, guest2 (gone) and guest3, the fourth client should "
                             "be guest4 — names are never reused — but it is {name}").format(
            name=d.name))
    for guest in (a, c):
        guest.expect("* guest4 joined")
    c.send("bye for now")
    for guest in (a, d):
        guest.expect("guest3: bye for now")
    room.stop_server()
    a.all_lines(["* guest2 joined", "* guest3 joined", "guest3: first of two",
                 "guest3: second of two", "guest2: ", "* guest2 left", "* guest4 joined",
                 "guest3: bye for now"], tr("the sender never gets its own lines back"))
    c.all_lines(["guest1: hello, room", "guest2: ", "* guest2 left", "* guest4 joined"],
                tr("the sender never gets its own lines back"))
    d.all_lines(["guest3: bye for now"], tr("a newcomer gets only what is said after it joined"))
    room.server_lines([f"Chat room open on port {room.port}.", joined("guest1", "127.0.0.1"),
                       joined("guest2", "127.0.0.1"), joined("guest3", "127.0.0.1"),
                       "guest2 left", joined("guest4", "127.0.0.1"), "Chat room closed."],
                      tr("one line per event"))


def check_commands(room: Room) -> None:
    """/who, /nick (taken, invalid, too long, guestN, good), an unknown command, /quit."""
    room.start_server()
    a, b, c = (Guest(room, label=client_label(x)) for x in "ABC")
    for guest in (a, b, c):
        guest.join()
    a.expect("* guest2 joined")
    a.expect("* guest3 joined")
    b.expect("* guest3 joined")
    a.send("/who")
    a.expect("* online: guest1, guest2, guest3", why=tr(" (/who: everyone, in order of joining)"))
    a.send("/nick alice")
    for guest in (a, b, c):
        guest.expect("* guest1 is now alice", why=tr(" (a rename is announced to everyone)"))
    room.expect_server(joined("guest1", "127.0.0.1"))
    room.expect_server(joined("guest2", "127.0.0.1"))
    room.expect_server(joined("guest3", "127.0.0.1"))
    room.expect_server("guest1 is now alice", tr(" (OLD is now NEW)"))
    refused = ["alice", "bad name", "x" * 17, "", "guest7", "caf\u00e9"]
    for name in refused:
        b.send(f"/nick {name}")
        b.expect(f"* name {name} is not available",
                 why=tr(" (/nick {name}: 1-16 of A-Za-z0-9_-, not in use, not guestN)")
                 .format(name=shown(name)))
    b.send("/nick Bob_the-2nd")
    for guest in (a, b, c):
        guest.expect("* guest2 is now Bob_the-2nd")
    room.expect_server("guest2 is now Bob_the-2nd")
    c.send("/frobnicate now")
    c.expect("* unknown command /frobnicate", why=tr(" (only the command word, to the asker)"))
    c.send("/who")
    c.expect("* online: alice, Bob_the-2nd, guest3")
    a.send("hi from alice")
    for guest in (b, c):
        guest.expect("alice: hi from alice", why=tr(" (lines carry the new name)"))
    c.send("/quit")
    c.expect_closed(tr("/quit: the server closes its connection"))
    for guest in (a, b):
        guest.expect("* guest3 left", why=tr(" (/quit is as the end of input)"))
    room.expect_server("guest3 left")
    room.stop_server()
    a.all_lines(["* guest2 joined", "* guest3 joined", "* online: guest1, guest2, guest3",
                 "* guest1 is now alice", "* guest2 is now Bob_the-2nd", "* guest3 left"],
                tr("answers to commands go to the asker alone"))
    b.all_lines(["* guest3 joined", "* guest1 is now alice"]
                + [f"* name {name} is not available" for name in refused]
                + ["* guest2 is now Bob_the-2nd", "alice: hi from alice", "* guest3 left"],
                tr("answers to commands go to the asker alone"))


def check_nc_socat(room: Room) -> None:
    """nc and socat join beside a harness client, and talk both ways."""
    room.start_server()
    g = Guest(room, label=tr("the harness's client"))
    g.join()
    # -N: at the end of its input, nc shuts down its sending side, as a client that leaves
    nc = room.launch("nc", ["nc", "-N", "127.0.0.1", str(room.port)], lab=False, stdin=True)
    nc_name = expect_program(room, nc, re.compile(r"\* you are (guest\d+)"))
    g.expect(f"* {nc_name} joined")
    socat = room.launch("socat", ["socat", "-", f"TCP:127.0.0.1:{room.port}"], lab=False,
                        stdin=True)
    socat_name = expect_program(room, socat, re.compile(r"\* you are (guest\d+)"))
    g.expect(f"* {socat_name} joined")
    expect_program(room, nc, f"* {socat_name} joined")
    nc.send("hello from nc")
    g.expect(f"{nc_name}: hello from nc")
    expect_program(room, socat, f"{nc_name}: hello from nc")
    socat.send("hello from socat")
    g.expect(f"{socat_name}: hello from socat")
    expect_program(room, nc, f"{socat_name}: hello from socat")
    g.send("hello from the harness")
    expect_program(room, nc, f"{g.name}: hello from the harness")
    expect_program(room, socat, f"{g.name}: hello from the harness")
    nc.close_stdin()
    for who in (g,):
        who.expect(f"* {nc_name} left", why=tr(" (nc's input ended: it shut down its side)"))
    expect_program(room, socat, f"* {nc_name} left")
    socat.close_stdin()
    g.expect(f"* {socat_name} left")
    room.stop_server()


def expect_program(room: Room, program: Program, wanted: str | re.Pattern[str],
                   within: float = LINE_S) -> str:
    """The program's next stdout line is `wanted` (a string: exactly; a regex: fully); returns
    the regex's first group or the line."""
    end = time.monotonic() + within * room.slow
    with program.line_added:
        while len(program.stdout_lines) <= program.consumed:
            left = end - time.monotonic()
            if left <= 0 or (program.proc.poll() is not None and not program._reading()):
                break
            program.line_added.wait(min(left, 0.05))
        if len(program.stdout_lines) <= program.consumed:
            raise CheckFailed(tr("{name} should have printed {line} within {seconds} s, but "
                                 "printed nothing more ({state}).").format(
                name=program.name, line=line_wanted(wanted), seconds=f"{within * room.slow:g}",
                state=program_state(program.poll_status())))
        got = program.stdout_lines[program.consumed]
        program.consumed += 1
    found = re.fullmatch(wanted if isinstance(wanted, re.Pattern) else re.escape(wanted), got)
    if not found:
        raise CheckFailed(tr("{name} should have printed {line}, but printed {got}.").format(
            name=program.name, line=line_wanted(wanted), got=shown(got)))
    return found.group(1) if found.groups() else got


def check_ipv6(room: Room) -> None:
    """The lab's clients over 127.0.0.1, ::1 and localhost in one room of the lab's server."""
    room.start_server()
    g = Guest(room, "::1", label=tr("the harness's client over ::1"))
    g.join()
    room.expect_server(joined(g.name, "::1"), tr(" — an IPv6 client's address shows ::1"))
    hosts = ("127.0.0.1", "::1", "localhost")
    names = {}
    for number, host in enumerate(hosts, 1):
        client = room.start_client(f"client{number}", host)
        expect_program(room, client, "Connected to the chat room.", START_S)
        name = f"guest{number + 1}"
        g.expect(f"* {name} joined", why=tr(" (the lab's client over {host})").format(host=host))
        names[host] = name
        address = {"127.0.0.1": "127.0.0.1", "::1": "::1"}.get(host, "")
        room.expect_server(joined(name, address) if address else
                           re.compile(rf"{name} joined from .*(127\.0\.0\.1|::1).*"),
                           tr(" (the client over {host})").format(host=host))
    for number, host in enumerate(hosts, 1):
        client = room.programs[f"client{number}"]
        client.send(f"hello over {host}")
        g.expect(f"{names[host]}: hello over {host}")
    for number, host in enumerate(hosts, 1):
        client = room.programs[f"client{number}"]
        client.close_stdin()
        g.expect(f"* {names[host]} left",
                 why=tr(" (the client over {host} ended its input)").format(host=host))
        status = client.wait(EXIT_S * room.slow)
        if status != "exit 0":
            raise CheckFailed(tr("the client over {host} should exit 0 at the end of its input; "
                                 "it ended with {status}").format(host=host, status=status))
    room.stop_server()


def check_load(room: Room) -> None:
    """100 clients at once, 20 lines each: every line to every other client exactly once, each
    sender's in order, within LOAD_DEADLINE_S."""
    room.start_server()
    room.quiet = True
    room.transcript.add("harness", tr("connects {count} clients").format(count=LOAD_CLIENTS))
    guests = [Guest(room, label=tr("load client {number}").format(number=i + 1))
              for i in range(LOAD_CLIENTS)]
    for guest in guests:
        guest.join()
    room.transcript.add("harness", tr("{count} clients joined; each sends {lines} lines, in "
                                      "rounds").format(count=LOAD_CLIENTS, lines=LOAD_LINES))
    started = time.monotonic()
    for number in range(LOAD_LINES):
        for guest in guests:
            guest.send(f"{guest.name} line {number} of {LOAD_LINES}", quiet=True)
    want = (LOAD_CLIENTS - 1) * LOAD_LINES
    end = started + LOAD_DEADLINE_S
    for guest in guests:
        while messages(guest) < want and time.monotonic() < end and not guest.eof:
            with guest.arrived:
                guest.arrived.wait(0.05)
    took = time.monotonic() - started
    room.transcript.add("harness", tr("the exchange took {seconds} s").format(
        seconds=f"{took:.2f}"))
    problems = []
    for guest in guests:
        problem = load_problem(guest, {g.name for g in guests})
        if problem:
            problems.append(problem)
    if problems:
        raise CheckFailed(tr("{failed} of {count} clients did not receive every other client's "
                             "{lines} lines exactly once and in order within {seconds} s (each "
                             "should receive {want}):").format(
            failed=len(problems), count=LOAD_CLIENTS, lines=LOAD_LINES,
            seconds=f"{LOAD_DEADLINE_S:g}", want=want) + "\n" + "\n".join(problems[:8]))
    room.quiet = False
    room.note(tr("every client received its {want} lines in {seconds} s").format(
        want=want, seconds=f"{took:.2f}"))
    room.stop_server()


def messages(guest: Guest) -> int:
    with guest.arrived:
        return sum(1 for line in guest.lines if not line.startswith("* "))


def load_problem(guest: Guest, names: set[str]) -> str:
    """What is wrong with what one load client received, or ''."""
    with guest.arrived:
        lines = list(guest.lines)
    per_sender: dict[str, list[int]] = {}
    for line in lines:
        if line.startswith("* "):
            continue
        found = LOAD_LINE.fullmatch(line)
        if not found or found.group(1) != found.group(2):
            return "  " + tr("{who} received {line}, which no client sent").format(
                who=guest.who(), line=shown(line))
        per_sender.setdefault(found.group(1), []).append(int(found.group(3)))
    if guest.name in per_sender:
        return "  " + tr("{who} received its own lines back ({count} of them)").format(
            who=guest.who(), count=len(per_sender[guest.name]))
    for sender in sorted(names - {guest.name}, key=lambda n: int(n[5:])):
        got = per_sender.get(sender, [])
        if got != list(range(LOAD_LINES)):
            missing = sorted(set(range(LOAD_LINES)) - set(got))
            doubled = sorted({n for n in got if got.count(n) > 1})
            detail = []
            if missing:
                detail.append(tr("missing {numbers}").format(
                    numbers=f"{missing[:5]}{'...' if len(missing) > 5 else ''}"))
            if doubled:
                detail.append(tr("twice {numbers}").format(numbers=doubled[:5]))
            if not missing and not doubled:
                detail.append(tr("out of order: {numbers}...").format(numbers=got[:10]))
            state = "" if not guest.eof else tr(" (its connection was closed)")
            return "  " + tr("{who} got {count} of {sender}'s {lines} lines: {details}{state}") \
                .format(who=guest.who(), count=len(got), sender=sender, lines=LOAD_LINES,
                        details=", ".join(detail), state=state)
    return ""


def check_one_thread(room: Room) -> None:
    """A busy room: the server stays one thread, and starts no other process."""
    room.start_server()
    room.quiet = True
    guests = [Guest(room, label=tr("busy client {number}").format(number=i + 1))
              for i in range(BUSY_CLIENTS)]
    for guest in guests:
        guest.join()
    pid = room.server_pid()
    seen: dict[str, int] = {"threads": 1, "processes": 1}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                threads = len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                return
            processes = len(session.process_tree(pid))
            seen["threads"] = max(seen["threads"], threads)
            seen["processes"] = max(seen["processes"], processes)
            time.sleep(SAMPLE_S)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for number in range(BUSY_LINES):
            for guest in guests:
                guest.send(f"{guest.name} line {number}", quiet=True)
        want = (BUSY_CLIENTS - 1) * BUSY_LINES
        end = time.monotonic() + LOAD_DEADLINE_S
        for guest in guests:
            while messages(guest) < want and time.monotonic() < end and not guest.eof:
                with guest.arrived:
                    guest.arrived.wait(0.05)
        # joins and leaves too: a thread or a process per client would show here
        for number in range(BUSY_CLIENTS):
            guest = Guest(room, label=tr("short client {number}").format(number=number + 1))
            guest.join()
            guest.close()
    finally:
        stop.set()
        watcher.join()
    room.quiet = False
    room.note(tr("the server (pid {pid}) had at most {threads} thread(s), and {children} child "
                 "process(es)").format(pid=pid, threads=seen["threads"],
                                       children=seen["processes"] - 1))
    if seen["threads"] > 1:
        raise CheckFailed(tr("the server should stay one thread; /proc/{pid}/task showed "
                             "{threads} threads while {count} clients talked. The lab is about "
                             "serving every client from one thread with poll(2).").format(
            pid=pid, threads=seen["threads"], count=BUSY_CLIENTS))
    if seen["processes"] > 1:
        raise CheckFailed(tr("the server should start no process; {children} appeared under it "
                             "while {count} clients talked (fork(2)?). The lab is about serving "
                             "every client from one thread with poll(2).").format(
            children=seen["processes"] - 1, count=BUSY_CLIENTS))
    room.stop_server()


def check_slow_reader(room: Room) -> None:
    """A client that never reads: the others keep receiving every line while it is filled, and
    it is dropped once more than 64 KiB wait for it."""
    room.start_server()
    s = Guest(room, reads=False, rcvbuf=4096, label=tr("a client that never reads"))
    s.name = "guest1"   # it never reads its '* you are guest1'
    t = Guest(room, label=tr("the talker"))
    t.join()
    r = Guest(room, label=tr("the reader"))
    r.join()
    t.expect("* guest3 joined")
    room.note(tr("the talker sends lines of {size} bytes until the reader hears that {name} was "
                 "dropped").format(size=SLOW_LINE, name=s.name))
    filler = "x" * (SLOW_LINE - len("line 000000 "))
    sent = 0
    heard = 0                              # talker's lines the reader received, in order
    started = time.monotonic()
    dropped_at = None
    room.quiet = True
    while dropped_at is None:
        if sent * SLOW_LINE > SLOW_MAX_BYTES or time.monotonic() - started > SLOW_DEADLINE_S:
            room.quiet = False
            raise CheckFailed(tr(
                "{name} never reads, yet it was not dropped after {lines} lines ({mib} MiB) in "
                "{seconds} s: more than 64 KiB waiting for one client must get it disconnected "
                "('* {name} dropped' to the others). Its socket's buffers take a few MiB; after "
                "that, the server queues what it cannot send, and past 64 KiB drops the client.")
                .format(name=s.name, lines=sent, mib=sent * SLOW_LINE >> 20,
                        seconds=f"{time.monotonic() - started:.0f}"))
        t.send(f"line {sent:06d} {filler}", quiet=True)
        sent += 1
        # The reader keeps up: every line sent reaches it, one by one, while the slow client is
        # being filled. A server blocked on the slow client stops here.
        if not r._wait(r.consumed + 1, STALL_S):
            room.quiet = False
            raise CheckFailed(tr(
                "the room stalled: the reader got nothing for {seconds} s after the talker's line "
                "{number} ({kib} KiB sent so far), while {name} was not reading. A send() that "
                "waits for a client that does not read stops the whole room: make the sockets "
                "non-blocking (fcntl(2), O_NONBLOCK) and queue what they cannot take.").format(
                seconds=f"{STALL_S * room.slow:g}", number=sent - 1,
                kib=sent * SLOW_LINE >> 10, name=s.name) + "\n" + r.report())
        while r.consumed < len(r.lines):
            line = r.lines[r.consumed]
            r.consumed += 1
            if line == f"* {s.name} dropped":
                dropped_at = sent
                break
            expected = f"guest2: line {heard:06d} {filler}"
            if line != expected:
                room.quiet = False
                raise CheckFailed(tr("the reader should have received the talker's lines in "
                                     "order; got {got} where {expected} was due.").format(
                    got=shown(line), expected=shown(expected)))
            heard += 1
    while heard < sent:       # the talker's lines still on their way to the reader
        r.expect(f"guest2: line {heard:06d} {filler}", why=tr(" (after the drop)"))
        heard += 1
    room.quiet = False
    room.note(tr("{name} was dropped after {lines} lines ({kib} KiB)").format(
        name=s.name, lines=dropped_at, kib=dropped_at * SLOW_LINE >> 10))
    t.expect(f"* {s.name} dropped")
    room.expect_server(joined("guest1", "127.0.0.1"))
    room.expect_server(joined("guest2", "127.0.0.1"))
    room.expect_server(joined("guest3", "127.0.0.1"))
    room.expect_server(re.compile(rf"{s.name} dropped: .+"), tr(" (NAME dropped: REASON)"))
    t.send("still here?")
    r.expect("guest2: still here?", why=tr(" (the room goes on after the drop)"))
    room.stop_server()


def check_half_line(room: Room) -> None:
    """Half a line, then a pause: nobody waits for its end; it arrives whole once finished."""
    room.start_server()
    h, t, r = (Guest(room, label=label) for label in
               (tr("the half-liner"), tr("the talker"), tr("the reader")))
    for guest in (h, t, r):
        guest.join()
    h.expect("* guest2 joined")
    h.expect("* guest3 joined")
    t.expect("* guest3 joined")
    room.note(tr("the half-liner sends 'half a li' without its newline, and waits"))
    h.send_bytes(b"half a li")
    t.send("a whole line, meanwhile")
    r.expect("guest2: a whole line, meanwhile",
             why=tr(" while guest1's line is half sent (nobody may wait for its end)"))
    h.expect("guest2: a whole line, meanwhile")
    room.note(tr("the half-liner finishes its line"))
    h.send_bytes(b"ne, finished\n")
    for guest in (t, r):
        guest.expect("guest1: half a line, finished", why=tr(" (the two halves are one line)"))
    room.stop_server()


def check_split(room: Room) -> None:
    """A client whose bytes travel one per TCP segment (the relay) is heard line by line, and
    blocks nobody while its line trickles in."""
    room.start_server()
    r = Guest(room, label=tr("a direct client"))
    r.join()
    relay_port = session.free_port("tcp")
    relay = room.launch("relay", session.expand(session.split_argv(room.args.relay), relay_port,
                                                room.port), lab=False)
    try:
        session.wait_bound(relay, "tcp", relay_port, session.BIND_DEADLINE_S)
    except session.SessionError as error:
        raise CheckFailed(tr("the relay did not start (a socklab bug): {error}").format(
            error=error)) from None
    x = Guest(room, port=relay_port, label=tr("a client behind the relay (1 byte a segment)"))
    x.join()
    r.expect(f"* {x.name} joined")
    t = Guest(room, label=tr("a talker"))
    t.join()
    for guest in (r, x):
        guest.expect(f"* {t.name} joined")
    long_line = "one byte at a time, " * 3
    x.send(long_line.strip())
    t.send("meanwhile, a whole line")
    r.expect(f"{t.name}: meanwhile, a whole line",
             why=tr(" while {name}'s line was still arriving byte by byte").format(name=x.name))
    r.expect(f"{x.name}: {long_line.strip()}",
             why=tr(" (a line split in 1-byte segments is whole)"), within=LINE_S * 4)
    x.send("short")
    r.expect(f"{x.name}: short")
    t.expect(f"{x.name}: {long_line.strip()}")
    t.expect(f"{x.name}: short")
    r.send("and back")
    x.expect(f"{t.name}: meanwhile, a whole line", within=LINE_S * 4)
    x.expect(f"{r.name}: and back", within=LINE_S * 4)
    room.stop_server()


def check_reset(room: Room) -> None:
    """A client vanishes (connection reset) while lines wait for it: it has left; the room goes
    on, and the server does not die of SIGPIPE."""
    room.start_server()
    a = Guest(room, label=client_label("A"))
    a.join()
    v = Guest(room, reads=False, label=tr("a client that vanishes"))
    v.name = "guest2"
    a.expect("* guest2 joined")
    c = Guest(room, label=client_label("C"))
    c.join()
    a.expect("* guest3 joined")
    v.send("I am here, briefly")
    for guest in (a, c):
        guest.expect("guest2: I am here, briefly")
    for number in range(20):                # lines that wait, unread, for the vanishing one
        a.send(f"line {number} for everyone", quiet=True)
        c.expect(f"guest1: line {number} for everyone")
    v.reset()
    for guest in (a, c):
        guest.expect("* guest2 left", why=tr(" (a reset connection is a client that left)"))
    for number in range(3):                  # sends after the reset: EPIPE, never SIGPIPE
        c.send(f"after the reset {number}")
        a.expect(f"guest3: after the reset {number}",
                 why=tr(" (the room goes on after a client vanished)"))
    room.stop_server()


def check_too_long(room: Room) -> None:
    """A 4095-byte line passes whole; 1 MiB without a newline gets its sender dropped, and no
    piece of it reaches anyone."""
    room.start_server()
    long_client, t, r = (Guest(room, label=label) for label in
                         (tr("the long-liner"), tr("the talker"), tr("the reader")))
    for guest in (long_client, t, r):
        guest.join()
    t.expect("* guest3 joined")
    longest = "".join(chr(ord("a") + i % 26) for i in range(LINE_MAX))
    long_client.send(longest)
    r.expect(f"guest1: {longest}", why=tr(" (a line of 4095 bytes is allowed)"))
    t.expect(f"guest1: {longest}")
    room.note(tr("the long-liner sends {size} bytes without a newline, 64 KiB at a time, while "
                 "the talker talks").format(size=FLOOD_BYTES))
    chunk = b"y" * 65536
    dropped = False
    sent = 0
    room.quiet = True
    while sent < FLOOD_BYTES and not dropped:
        try:
            long_client.send_bytes(chunk, within=LINE_S)
            sent += len(chunk)
        except ConnectionGone:
            sent = FLOOD_BYTES            # closed by the server: dropped, as it should be
        except CheckFailed:
            room.quiet = False
            raise CheckFailed(tr(
                "the server stopped reading guest1 after about {kib} KiB without a newline, but "
                "did not drop it: a line over 4095 bytes must get its sender disconnected "
                "('* guest1 dropped' to the others).").format(kib=sent >> 10)) from None
        t.send("still talking", quiet=True)
        # the reader hears the talker whatever guest1 does; the drop may come first
        while True:
            if not r._wait(r.consumed + 1, LINE_S):
                room.quiet = False
                raise CheckFailed(tr("the reader should have received 'guest2: still talking' "
                                     "within {seconds} s while guest1 sent a line that never "
                                     "ends (nobody may wait for it).").format(
                    seconds=f"{LINE_S:g}") + "\n" + r.report())
            line = r.lines[r.consumed]
            r.consumed += 1
            if line == "* guest1 dropped" and not dropped:
                dropped = True
                continue
            if line != "guest2: still talking":
                room.quiet = False
                raise CheckFailed(tr("the reader should have received 'guest2: still talking', "
                                     "but received {got} — no piece of a line over 4095 bytes "
                                     "may reach anyone.").format(got=shown(line))
                                  + "\n" + r.report())
            break
    room.quiet = False
    if not dropped:
        r.expect("* guest1 dropped", why=tr(" (guest1 sent {kib} KiB without a newline: a line "
                                            "over 4095 bytes gets its sender dropped)").format(
            kib=sent >> 10))
    room.expect_server(joined("guest1", "127.0.0.1"))
    room.expect_server(joined("guest2", "127.0.0.1"))
    room.expect_server(joined("guest3", "127.0.0.1"))
    room.expect_server(re.compile(r"guest1 dropped: .+"), tr(" (NAME dropped: REASON)"))
    t.send("after the flood")
    r.expect("guest2: after the flood")
    room.stop_server()


def check_silent(room: Room) -> None:
    """A client that connects and sends nothing changes nothing for the others."""
    room.start_server()
    q = Guest(room, label=tr("a silent client"))
    q.join()
    a, b = Guest(room, label=client_label("A")), Guest(room, label=client_label("B"))
    for guest in (a, b):
        guest.join()
    a.expect("* guest3 joined")
    for number in range(5):
        a.send(f"question {number}")
        b.expect(f"guest2: question {number}", why=tr(" (guest1 connected and said nothing)"))
        b.send(f"answer {number}")
        a.expect(f"guest3: answer {number}")
    room.stop_server()
    q.all_lines(["* guest2 joined", "* guest3 joined"]
                + [line for n in range(5) for line in (f"guest2: question {n}",
                                                       f"guest3: answer {n}")],
                tr("a silent client still hears everything"))


def open_descriptors(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def check_flood(room: Room) -> None:
    """200 connects and disconnects while two clients talk: they go on, names keep counting,
    and the server holds no more descriptors than before."""
    room.start_server()
    a, b = Guest(room, label=client_label("A")), Guest(room, label=client_label("B"))
    a.join()
    b.join()
    a.expect("* guest2 joined")
    pid = room.server_pid()
    before = open_descriptors(pid)
    room.note(tr("the server holds {count} descriptors; {connections} connections come and go")
              .format(count=before, connections=FLOOD_CONNECTIONS))
    room.quiet = True
    for batch in range(FLOOD_CONNECTIONS // FLOOD_BATCH):
        # a batch connects, all of them together, then each leaves its own way: at once, after
        # a line, in the middle of a line, or with a reset
        batch_socks = []
        try:
            for _ in range(FLOOD_BATCH):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(CONNECT_S * room.slow)
                sock.connect(("127.0.0.1", room.port))
                batch_socks.append(sock)
            for number, sock in enumerate(batch_socks):
                kind = number % 4
                if kind == 1:
                    sock.sendall(b"a line, then gone\n")
                elif kind == 2:
                    sock.sendall(b"half a li")
                elif kind == 3:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                sock.close()
        except OSError as error:
            room.quiet = False
            raise CheckFailed(tr("a connection of the flood's batch {batch} (of {size} at once) "
                                 "failed: {error} — does the server still accept?").format(
                batch=batch + 1, size=FLOOD_BATCH, error=error.strerror or error)) from None
        finally:
            for sock in batch_socks:
                sock.close()
        done = (batch + 1) * FLOOD_BATCH
        a.send(f"still talking after {done}", quiet=True)
        expect_skipping_announcements(b, f"guest1: still talking after {done}")
    room.quiet = False
    c = Guest(room, label=tr("a newcomer after the flood"))
    c.join()
    number = int(c.name[len("guest"):])
    if number <= 2 + FLOOD_CONNECTIONS * 3 // 4:
        raise CheckFailed(tr("after 2 clients and {connections} connections, a newcomer should "
                             "be about {expected} (names count every connection and are never "
                             "reused); it is {name}").format(
            connections=FLOOD_CONNECTIONS, expected=f"guest{3 + FLOOD_CONNECTIONS}",
            name=c.name))
    expect_skipping_announcements(a, f"* {c.name} joined")
    a.send("after the flood")
    expect_skipping_announcements(b, "guest1: after the flood")
    c.expect("guest1: after the flood")
    end = time.monotonic() + FD_SETTLE_S * room.slow
    after = open_descriptors(pid)
    while after > before + 1 and time.monotonic() < end:   # + 1: the newcomer
        time.sleep(0.05)
        after = open_descriptors(pid)
    room.note(tr("the server holds {count} descriptors").format(count=after))
    if after > before + 1:
        raise CheckFailed(tr("the server held {before} descriptors before {connections} "
                             "connections came and went, and {after} after them (one more client "
                             "is connected): the sockets of clients that left were not all closed "
                             "(close(2) each one when its client goes).").format(
            before=before, connections=FLOOD_CONNECTIONS, after=after))
    room.stop_server()


FLOOD_NOISE = re.compile(r"\* guest\d+ (joined|left|dropped)|guest\d+: a line, then gone")


def expect_skipping_announcements(guest: Guest, line: str,
                                  noise: re.Pattern[str] = FLOOD_NOISE) -> None:
    """The next line that is not `noise` (announcements '* ...joined/left/dropped', and the
    flood's own lines) is `line`."""
    while True:
        if not guest._wait(guest.consumed + 1, LINE_S):
            raise CheckFailed(guest.nothing_came(line))
        got = guest.lines[guest.consumed]
        guest.consumed += 1
        if got == line:
            return
        if not noise.fullmatch(got):
            raise CheckFailed(guest.unexpected(line, got))


# --- the client's checks: a stand-in room run by the harness -------------------------------

class StandIn:
    """A room played by the harness for one lab client: it accepts the client, and sends and
    receives exactly what the check says."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.listener = socket.create_server(("127.0.0.1", room.port))
        self.conn: socket.socket | None = None
        self.pending = b""

    def accept(self, client: Program) -> None:
        """Waits for the client's connection (and stops waiting if the client ends first)."""
        end = time.monotonic() + START_S * self.room.slow
        while time.monotonic() < end and client.proc.poll() is None:
            ready, _, _ = select.select([self.listener], [], [], 0.05)
            if ready:
                self.conn, _ = self.listener.accept()
                self.room.note(tr("the stand-in room accepted the client"))
                return
        raise CheckFailed(tr("the client did not connect to the room at 127.0.0.1 port {port} "
                             "({status}).").format(port=self.room.port,
                                                   status=program_state(client.poll_status())))

    def send(self, text: str) -> None:
        assert self.conn is not None
        self.room.note(tr("the room sends {text}").format(text=shown(text)))
        self.conn.sendall(text.encode() + b"\n")

    def expect(self, line: str, why: str) -> None:
        assert self.conn is not None
        end = time.monotonic() + LINE_S * self.room.slow
        while b"\n" not in self.pending:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.conn], [], [], max(left, 0))
            if not ready:
                raise CheckFailed(tr("the room should have received {line} from the client "
                                     "({why}) within {seconds} s; it got {got} so far.").format(
                    line=shown(line), why=why, seconds=f"{LINE_S * self.room.slow:g}",
                    got=shown(self.pending.decode(errors="replace"))))
            data = self.conn.recv(RECV_CHUNK)
            if not data:
                raise CheckFailed(tr("the room should have received {line} from the client "
                                     "({why}), but the client closed the connection first.")
                                  .format(line=shown(line), why=why))
            self.pending += data
        raw, _, self.pending = self.pending.partition(b"\n")
        got = raw.decode(errors="replace")
        if got != line:
            raise CheckFailed(tr("the room should have received {line} from the client ({why}), "
                                 "but received {got}.").format(line=shown(line), why=why,
                                                               got=shown(got)))
        self.room.note(tr("the room received {text}").format(text=shown(got)))

    def expect_closed(self, why: str) -> None:
        assert self.conn is not None
        end = time.monotonic() + EXIT_S * self.room.slow
        while True:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.conn], [], [], max(left, 0))
            if not ready:
                raise CheckFailed(tr("the client should have closed its connection ({why}) "
                                     "within {seconds} s; it is still open.").format(
                    why=why, seconds=f"{EXIT_S * self.room.slow:g}"))
            try:
                data = self.conn.recv(RECV_CHUNK)
            except ConnectionResetError:
                data = b""
            if not data:
                self.room.note(tr("the client closed its connection"))
                return
            self.pending += data

    def close(self) -> None:
        self.room.note(tr("the room closes the connection"))
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


def client_prints(room: Room, client: Program, line: str, why: str,
                  within: float = LINE_S) -> None:
    expect_program(room, client, line, within)
    room.note(tr("the client printed {line}").format(line=shown(line)))


def check_client_poll(room: Room) -> None:
    """The client prints a line from the room at once while it waits for input, and sends what
    is typed."""
    stand_in = StandIn(room)
    client = room.start_client("client", "127.0.0.1")
    stand_in.accept(client)
    client_prints(room, client, "Connected to the chat room.", "", START_S)
    stand_in.send("* you are guest1")
    try:
        client_prints(room, client, "* you are guest1", "")
        stand_in.send("guest2: a line while you wait for your user")
        client_prints(room, client, "guest2: a line while you wait for your user", "")
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}\n" + tr(
            "The client's user has typed nothing yet: a client that reads stdin first (as the "
            "lesson's chat does) prints nothing until they do. Wait for both at once with "
            "poll(2).")) from None
    client.send("hello, room")
    stand_in.expect("hello, room", tr("what its user typed, with its '\\n'"))
    for number in range(3):
        stand_in.send(f"guest2: and another, {number}")
    for number in range(3):
        client_prints(room, client, f"guest2: and another, {number}", "")
    client.send("one\ntwo")       # two lines in one write, as when a user pastes them
    stand_in.expect("one", tr("the first of two lines pasted at once"))
    try:
        stand_in.expect("two", tr("the second of two lines pasted at once"))
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}\n" + tr(
            "A client that reads stdin with stdio (fgets(3), getline(3)) after poll(2) gets the "
            "first line, while the second waits in stdio's buffer, where poll() cannot see it. "
            "read(2) the descriptor and send what came.")) from None
    client.close_stdin()
    stand_in.expect_closed(tr("the end of its input"))
    status = client.wait(EXIT_S * room.slow)
    if status != "exit 0":
        raise CheckFailed(tr("at the end of its input the client should exit 0; it ended with "
                             "{status}").format(status=status))
    stand_in.close()


def check_client_ends(room: Room) -> None:
    """End of input: the client closes and exits 0. The room closes: the client prints
    'Connection closed by server.' and exits 0."""
    stand_in = StandIn(room)
    client = room.start_client("client1", "127.0.0.1")
    stand_in.accept(client)
    client_prints(room, client, "Connected to the chat room.", "", START_S)
    client.close_stdin()
    stand_in.expect_closed(tr("the end of its input, at once"))
    status = client.wait(EXIT_S * room.slow)
    if status != "exit 0":
        raise CheckFailed(tr("at the end of its input the client should close its connection "
                             "and exit 0; it ended with {status}").format(status=status))
    stand_in.close()
    stand_in = StandIn(room)
    client = room.start_client("client2", "127.0.0.1")
    stand_in.accept(client)
    client_prints(room, client, "Connected to the chat room.", "", START_S)
    stand_in.send("* you are guest1")
    client_prints(room, client, "* you are guest1", "")
    stand_in.close()
    client_prints(room, client, "Connection closed by server.", "")
    status = client.wait(EXIT_S * room.slow)
    if status != "exit 0":
        raise CheckFailed(tr("when the room closes the connection, the client should print "
                             "'Connection closed by server.' and exit 0; it ended with {status}")
                          .format(status=status))


# --- stopping, and the reference on either side ---------------------------------------------

def check_sigterm(room: Room) -> None:
    """SIGTERM, then SIGINT: the server closes every connection, prints 'Chat room closed.'
    and exits 0 — with a client in the middle of a line, and one with lines waiting."""
    for number in (signal.SIGTERM, signal.SIGINT):
        room.guests = []
        room.port = session.free_port("tcp")
        name = signal.Signals(number).name
        room.start_server(name="server" if number == signal.SIGTERM else "server-sigint")
        a = Guest(room, label=client_label("A"))
        a.join()
        b = Guest(room, reads=False, label=tr("a client that does not read"))
        a.expect("* guest2 joined")
        a.send_bytes(b"half a li")
        room.stop_server(number)
        # the one that did not read reads now: what was queued, then the end of the connection
        b.reader = threading.Thread(target=b._read, daemon=True)
        b.reader.start()
        b._wait(sys.maxsize, STOP_S)
        if not (b.eof or b.error):
            raise CheckFailed(tr("after {signal}, the server should close every connection; that "
                                 "of a client that was not reading is still open.").format(
                signal=name))


def conversation(room: Room, label: str) -> None:
    """Three lab clients in a room; every line checked on each client's output. (Over
    127.0.0.1 and localhost: IPv6 is the ipv6 check's.)"""
    hosts = ("127.0.0.1", "localhost", "127.0.0.1")
    clients = []
    for number, host in enumerate(hosts, 1):
        client = room.start_client(f"client{number}", host)
        client_prints(room, client, "Connected to the chat room.", "", START_S)
        client_prints(room, client, f"* you are guest{number}", "")
        for earlier in clients:
            client_prints(room, earlier, f"* guest{number} joined", "")
        clients.append(client)
    one, two, three = clients
    one.send("hello from one")
    for other in (two, three):
        client_prints(room, other, "guest1: hello from one", "")
    three.send("/nick carol")
    for each in clients:
        client_prints(room, each, "* guest3 is now carol", "")
    two.send("/who")
    client_prints(room, two, "* online: guest1, guest2, carol", "")
    two.send("hi carol")
    for other in (one, three):
        client_prints(room, other, "guest2: hi carol", "")
    one.close_stdin()
    for other in (two, three):
        client_prints(room, other, "* guest1 left", "")
    status = one.wait(EXIT_S * room.slow)
    if status != "exit 0":
        raise CheckFailed(tr("{label}: client1 should exit 0 at the end of its input; it ended "
                             "with {status}").format(label=label, status=status))
    room.stop_server()
    for each in (two, three):
        client_prints(room, each, "Connection closed by server.", "")
        status = each.wait(EXIT_S * room.slow)
        if status != "exit 0":
            raise CheckFailed(tr("{label}: {name} should exit 0 when the room closes; it ended "
                                 "with {status}").format(label=label, name=each.name,
                                                         status=status))


def check_conversation(room: Room) -> None:
    """ref-client and ref-server: the server and clients given, in a conversation of three."""
    room.start_server()
    conversation(room, tr("three clients"))


def check_memory(room: Room) -> None:
    """For Valgrind and the sanitizers: clients come and go, are dropped and reset, long lines
    and long names, and the lab's client too; SIGTERM at the end."""
    room.start_server()
    a = Guest(room, label=client_label("A"))
    a.join()
    # The lab's client (over localhost: IPv6 is the ipv6 check's) connects, speaks and leaves;
    # what it prints is other checks' business.
    client = room.start_client("client", "localhost") if room.args.client else None
    if client is not None:
        client_prints(room, client, "Connected to the chat room.", "", START_S)
        a.expect("* guest2 joined")
    longest = "z" * LINE_MAX
    a.send(longest)
    a.send("/nick " + "n" * (LINE_MAX - len("/nick ")))
    a.expect("* name " + "n" * (LINE_MAX - len("/nick ")) + " is not available")
    a.send("/who")
    a.expect("* online: guest1" + (", guest2" if client else ""))
    if client is not None:
        client.send("the lab's client speaks")
        a.expect("guest2: the lab's client speaks")
    labels = {"close": tr("a client that will close"), "reset": tr("a client that will reset"),
              "quit": tr("a client that will quit"),
              "too long": tr("a client that will send too long a line"),
              "nick": tr("a client that will change its name")}
    for kind in ("close", "reset", "quit", "too long", "nick"):
        g = Guest(room, label=labels[kind])
        name = g.join()
        expect_skipping_announcements(a, f"* {name} joined")
        if kind == "close":
            g.send("bye")
            expect_skipping_announcements(a, f"{name}: bye")
            g.close()
        elif kind == "reset":
            g.reset()
        elif kind == "quit":
            g.send("/quit")
        elif kind == "too long":
            g.send_bytes(b"w" * (LINE_MAX + 10))
        elif kind == "nick":
            g.send("/nick dave")
            expect_skipping_announcements(a, f"* {name} is now dave")
            g.send("/quit")
            name = "dave"
        outcome = "dropped" if kind == "too long" else "left"
        expect_skipping_announcements(a, f"* {name} {outcome}")
    if client is not None:
        client.close_stdin()
        a.expect("* guest2 left")
        status = client.wait(EXIT_S * room.slow)
        if status != "exit 0":
            raise CheckFailed(tr("the client should exit 0 at the end of its input; it ended "
                                 "with {status}").format(status=status))
    late = Guest(room, reads=False, label=tr("a client that does not read, there at the end"))
    late.name = a.next_joined()
    late.send("waiting")
    a.expect(f"{late.name}: waiting")
    room.stop_server()


def check_reuseaddr(room: Room) -> None:
    """The server sets SO_REUSEADDR (traced from outside), and starts again at once on the same
    port after closing the room, its connections in TIME_WAIT."""
    log = room.out / "server.strace"
    room.start_server(prefix=session.trace_prefix(log, "setsockopt"))
    a, b = Guest(room, label=client_label("A")), Guest(room, label=client_label("B"))
    a.join()
    b.join()
    a.expect("* guest2 joined")
    a.send("hello")
    b.expect("guest1: hello")
    room.stop_server()     # the server closes first: its side of each connection in TIME_WAIT
    calls = session.program_trace(log.read_text(errors="replace"), room.args.server,
                                  "setsockopt")
    (room.out / "server.trace").write_text("".join(f"{line}\n" for line in calls))
    # any non-zero value turns the option on: [1], or [2] from an `int yes = 2`
    if not any(re.search(r"SO_REUSEADDR, \[[1-9][0-9]*\]", line) for line in calls):
        raise CheckFailed(tr("the server never set SO_REUSEADDR (setsockopt(2), socket(7)); its "
                             "setsockopt calls were:") + "\n"
                          + ("\n".join(f"    {c}" for c in calls) or "    " + tr("none")))
    room.guests = []
    room.start_server(name="server-again")
    c = Guest(room, label=tr("a client of the room started again"))
    c.join()
    room.stop_server()


CHECKS: dict[str, Callable[[Room], None]] = {
    "room": check_room,
    "commands": check_commands,
    "nc-socat": check_nc_socat,
    "ipv6": check_ipv6,
    "load": check_load,
    "one-thread": check_one_thread,
    "slow-reader": check_slow_reader,
    "half-line": check_half_line,
    "split": check_split,
    "reset": check_reset,
    "too-long": check_too_long,
    "silent": check_silent,
    "flood": check_flood,
    "client-poll": check_client_poll,
    "client-ends": check_client_ends,
    "sigterm": check_sigterm,
    "conversation": check_conversation,
    "memory": check_memory,
    "reuseaddr": check_reuseaddr,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("check", choices=sorted(CHECKS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cwd", type=Path, required=True)
    parser.add_argument("--server", default="", help="the lab's server program")
    parser.add_argument("--client", default="", help="the lab's client program")
    parser.add_argument("--relay", default="", help="the relay's command line (split check)")
    parser.add_argument("--valgrind", default="", help="comma-separated: server,client")
    parser.add_argument("--sanitizers", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in args.out.iterdir():
        if stale.is_file():
            stale.unlink()
    room = Room(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))   # Bats' timeout: still clean up
    result = "ok"
    try:
        CHECKS[args.check](room)
    except CheckFailed as failure:
        result = str(failure)
        room.quiet = False
        room.note(tr("FAILED: {error}").format(error=result.splitlines()[0]))
    finally:
        room.finish(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
