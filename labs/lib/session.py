#!/usr/bin/python3
"""Run one lab session: a server, optionally a relay, and a client, each under a deadline.

Bats tests call this tool; it writes what happened into a folder, one fact a file, so that
the tests' assertions are plain file reads:

    port                  the port the OS handed out, on which the server was started
    NAME.stdout/.stderr   what each program printed (capped)
    NAME.status           "exit N", "signal NAME", "timeout" (killed at the deadline),
                          "not started" or "no bind" (the server never bound its port)
    NAME.argv             the command line, for "reproduce by hand" messages
    NAME.memcheck         with --valgrind/--sanitizers: "clean", or the first error found
    NAME.trace            with --NAME-trace CALLS: those system calls as strace(1) saw the
                          program make them (the launcher's own calls left out)
    transcript            both programs' output and the harness's steps, interleaved and
                          time-stamped, for failure messages
    script.result         with --script: "ok", or what the first failed step expected
    pids                  every process group started, so Bats' teardown can kill leftovers

A conversation script drives interactive programs (chat labs), one step a line:

    send client hello         write "hello\\n" to the client's stdin
    expect server Client: hello
                              wait until the server prints exactly that as its next line
    close client              close the client's stdin (end of input)
    wait client               wait until the client exits
    # comment                 ignored

Every program starts in one place, `launch()`: the lab's programs (--server, --client, --run)
inside the grader's sandbox (SOCKLAB_WRAP) with a clean environment (CLEAN_ENV: nothing of the
grader's, Bats' or the build's), the harness's own peers (--server-peer, --client-peer, the
relay) outside it with the same clean environment. Each gets only descriptors 0-2 (never Bats'
fd 3), its own process group, and is killed with its whole group when the session ends,
whatever happens. A command line crosses from Bats as one argument whose words are joined
with ARGV_SEP (the ASCII unit separator), so a path with spaces stays one word; SOCKLAB_WRAP
uses the same form.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Messages speak the grader's language (SOCKLAB_LANG, else the locale): grader/i18n.py, from
# the kit this file belongs to. `tr` rather than `_`, which this file uses for values it drops.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from grader.i18n import _ as tr, child_environment, display_width, setup_for_harness  # noqa: E402
import debuginfo  # noqa: E402  (beside this file)
import sockdiag  # noqa: E402  (beside this file)

setup_for_harness()

OUTPUT_CAP = 1 << 20          # bytes of each stream kept; the rest is read and dropped
POLL_S = 0.005                # how often conditions are re-checked while waiting
DRAIN_S = 2.0                 # after a program ends, how long its last output may take to arrive
BIND_DEADLINE_S = 5.0         # how long a server may take to bind its port
VALGRIND_SLOWDOWN = 4.0       # deadlines are multiplied by this under Valgrind
VALGRIND_LOG_FD = 100         # Valgrind's report goes to a descriptor from here up
LINE_DEADLINE_S = 2.0         # how long an expected line may take to appear
SERVER_GRACE_S = 3.0          # how long the server may go on once the client has ended
# ... when the server is the reference and the client has failed: the reference ends within
# milliseconds of a client that reached it, and one that never did (a skeleton's) would keep
# it waiting the whole grace for a verdict already known
REFERENCE_GRACE_S = 0.5
ARGV_SEP = "\x1f"             # joins the words of one command line (ASCII unit separator)
PORT_TRIES = 100              # ports drawn before giving up on finding one no session has
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")   # the kernel's own ports
DEFAULT_EPHEMERAL_LOW = 32768 # its first port, where the file cannot be read (Linux's default)
LOWEST_PORT = 1024            # below: ports only root may bind
SIGNAL_BASE = 128             # a sandboxed program killed by signal N ends as 128+N (bubblewrap)
# The whole environment of every program a test starts: nothing of the grader's (SOCKLAB_*),
# Bats' (BATS_*) or the build's. HOME and TMPDIR are the program's working folder (its scratch
# folder in a test), so that a program that writes "home" writes there.
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

VALGRIND = [
    "valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
    "--errors-for-leak-kinds=definite,indirect,possible", "--track-fds=yes",
    "--num-callers=12", "--read-inline-info=no", "--vex-guest-chase=no",
]   # no --track-origins: it costs ~1 s a run; run it by hand to trace an uninitialised value.
# --vex-guest-chase=no: Valgrind translates each piece of code it runs, and by default follows
# jumps to translate bigger pieces at once; most of a test's run is Valgrind's start, where
# little code runs twice, and without chasing the same runs took 5-6% less CPU (a client that
# is refused: 3.84 to 3.63 CPU-s for ten runs; a 3 MB sha256sum: 0.76 to 0.70). It changes how
# the code is cut into pieces, not what is checked in each instruction.
# --read-inline-info=no: reading libc's inlined frames (libc6-dbg) cost ~0.08 s of every run's
# ~0.45 s start; a report loses only the inlined callers in its stack traces, never an error.
# (In the sandbox, libc's debugging file is hidden altogether: debuginfo.py.)
SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=86",
    "LSAN_OPTIONS": "exitcode=86",
}


class SessionError(Exception):
    """A step of the session did not happen as expected; the message says what and why."""


@dataclass
class Transcript:
    """Everything that happened, time-stamped from the start of the session."""

    start: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, who: str, text: str) -> None:
        stamp = time.monotonic() - self.start
        with self.lock:
            self.lines.append(f"{stamp:8.3f}s  {who:<14} {text}")


class Program:
    """A spawned program whose output is captured line by line as it arrives."""

    def __init__(self, name: str, argv: list[str], out: Path, transcript: Transcript,
                 cwd: Path, env: dict[str, str], stdin: IO[bytes] | int,
                 pass_fds: tuple[int, ...] = (), sandboxed: bool = False) -> None:
        self.name = name
        self.sandboxed = sandboxed
        self.out = out
        self.transcript = transcript
        self.stdout_lines: list[str] = []
        self.consumed = 0                     # stdout lines already matched by `expect`
        self.line_added = threading.Condition()
        self.proc = subprocess.Popen(
            argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
            env=env, start_new_session=True, close_fds=True, pass_fds=pass_fds)
        with open(out / "pids", "a") as pids:
            pids.write(f"{self.proc.pid}\n")
        self.status = "running"
        self.readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, "stderr"), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _drain(self, stream: IO[bytes] | None, kind: str) -> None:
        assert stream is not None
        kept = 0
        pending = b""
        with open(self.out / f"{self.name}.{kind}", "wb") as sink:
            while chunk := os.read(stream.fileno(), 65536):
                if kept >= OUTPUT_CAP:   # a flood: keep draining, so the writer never
                    continue             # blocks, but spend nothing more on it
                sink.write(chunk[:OUTPUT_CAP - kept])
                sink.flush()
                kept += len(chunk)
                if kept >= OUTPUT_CAP:
                    self._line(kind, f"[output cut after {OUTPUT_CAP} bytes]")
                    chunk = chunk[:OUTPUT_CAP - (kept - len(chunk))]
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    self._line(kind, raw.decode("utf-8", "replace"))
                if len(pending) > OUTPUT_CAP:
                    pending = b""
            if pending:
                self._line(kind, pending.decode("utf-8", "replace") + "  " + tr("[no newline]"))
        stream.close()

    def _line(self, kind: str, text: str) -> None:
        shown = text if len(text) <= 200 else text[:200] + tr("... ({count} chars)").format(
            count=len(text))
        self.transcript.add(f"{self.name} {'out' if kind == 'stdout' else 'err'}", shown)
        if kind == "stdout":
            with self.line_added:
                self.stdout_lines.append(text)
                self.line_added.notify_all()

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.transcript.add("harness", tr("types into {name}: {text}").format(
            name=self.name, text=repr(text)))
        try:
            self.proc.stdin.write(text.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise SessionError(tr("{name} no longer reads its input (it has exited: "
                                  "{status})").format(name=self.name,
                                                      status=self.poll_status())) from None

    def close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.transcript.add("harness", tr("closes {name}'s input (end of file)").format(
                name=self.name))
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    def expect(self, line: str, deadline_s: float) -> None:
        """Waits until the program's next unread stdout line exists, and checks it."""
        end = time.monotonic() + deadline_s
        with self.line_added:
            while len(self.stdout_lines) <= self.consumed:
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reading()):
                    break
                self.line_added.wait(min(left, 0.05))
            if len(self.stdout_lines) <= self.consumed:
                if self.proc.poll() is not None:
                    raise SessionError(tr("expected {name} to print {line}, but it exited "
                                          "first ({status})").format(
                        name=self.name, line=repr(line), status=self.poll_status()))
                raise SessionError(tr(
                    "expected {name} to print {line}, but it printed nothing within {seconds} "
                    "s — is stdout flushed after each line (setvbuf(3), fflush(3))?").format(
                    name=self.name, line=repr(line), seconds=f"{deadline_s:g}"))
            got = self.stdout_lines[self.consumed]
            self.consumed += 1
        if got != line:
            raise SessionError(tr("expected {name} to print {line}, got {got}").format(
                name=self.name, line=repr(line), got=repr(got)))

    def _reading(self) -> bool:
        return any(reader.is_alive() for reader in self.readers)

    def poll_status(self) -> str:
        code = self.proc.poll()
        if code is None:
            return "running"
        if code < 0:
            return signal_status(-code)
        if self.sandboxed and SIGNAL_BASE < code < SIGNAL_BASE + signal.NSIG:
            # The sandbox's init (bubblewrap's PID 1) reports its child's death by signal N as
            # exit 128+N, as a shell does: the contract's statuses are 0, 1 and 2, so a status
            # in this range is the program's signal.
            return signal_status(code - SIGNAL_BASE)
        return f"exit {code}"

    def wait(self, deadline_s: float) -> str:
        try:
            wait_exit(self.proc, max(deadline_s, 0.0))
            self.status = self.poll_status()
            # stamped as it happens, so a test can time the program itself, without the
            # harness's own start-up (which a loaded machine makes slow)
            self.transcript.add("harness", f"{self.name} ended: {self.status}")
            # The program has ended, but the readers may not have drained its pipes yet: its
            # last line ("... stopped.") is only seen once they reach EOF.
            self.drain()
        except subprocess.TimeoutExpired:
            self.kill()
            self.status = "timeout"
            self.transcript.add("harness", tr("killed {name}: still running after {seconds} "
                                              "s").format(name=self.name,
                                                          seconds=f"{round(deadline_s, 2):g}"))
        return self.status

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()

    def drain(self) -> None:
        """Waits (at most DRAIN_S) until everything the program wrote has been read."""
        for reader in self.readers:
            reader.join(timeout=DRAIN_S)

    def finish(self) -> None:
        """Kills the program's group if anything is left, and collects all its output."""
        if self.status == "running":
            self.status = self.poll_status()
        self.kill()   # also reaps children left behind in the group
        self.close_stdin()
        self.drain()
        (self.out / f"{self.name}.status").write_text(self.status + "\n")


def signal_status(number: int) -> str:
    try:
        return f"signal {signal.Signals(number).name}"
    except ValueError:
        return f"signal {number}"


# The marks of a line-by-line comparison, as socklab.bash's assert_lines writes them.
COMPARISON_MARKS = ("GOOD", "BAD", "MISSING", "UNEXPECTED", "expected")
MARK_COLUMNS = 12             # the compared line starts this many columns after its mark


def mark(word: str) -> str:
    """A mark of a line-by-line comparison (one of COMPARISON_MARKS) in the student's language,
    padded to the column where the compared line starts: the catalog entry socklab.bash's
    lines_marked uses, so that every comparison a student reads has the same marks."""
    words = tr("GOOD BAD MISSING UNEXPECTED expected").split()
    if len(words) != len(COMPARISON_MARKS):
        words = list(COMPARISON_MARKS)
    shown = words[COMPARISON_MARKS.index(word)]
    return shown + " " * max(MARK_COLUMNS - display_width(shown), 2)


def wait_exit(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """proc.wait(timeout=timeout_s), told of the end at once. Popen.wait with a timeout polls,
    sleeping up to 50 ms between looks, so it may see an ended program 50 ms late: longer than
    lab 08's reference takes to move 16 MiB, which its speed test times from the stamp written
    when this returns. A pidfd (pidfd_open(2)) becomes readable as the process ends. Raises
    subprocess.TimeoutExpired, as Popen.wait does."""
    if proc.returncode is None:
        try:
            pidfd = os.pidfd_open(proc.pid)
        except OSError:    # reaped meanwhile (ProcessLookupError), or no pidfd: Popen's polling
            proc.wait(timeout=timeout_s)
            return
        try:
            watch = select.poll()
            watch.register(pidfd, select.POLLIN)
            if not watch.poll(timeout_s * 1000):
                raise subprocess.TimeoutExpired(proc.args, timeout_s)
        finally:
            os.close(pidfd)
    proc.wait()


def split_argv(joined: str) -> list[str]:
    """A command line as Bats passes it: words joined with ARGV_SEP ("" is no command)."""
    return joined.split(ARGV_SEP) if joined else []


def sandbox_wrap() -> list[str]:
    """The grader's sandbox launcher (SOCKLAB_WRAP), or nothing when the sandbox is off."""
    return split_argv(os.environ.get("SOCKLAB_WRAP", ""))


def launch(name: str, argv: list[str], *, out: Path, transcript: Transcript, cwd: Path,
           stdin: IO[bytes] | int, sandboxed: bool, prefix: list[str] | None = None,
           valgrind: bool = False, sanitizers: bool = False) -> Program:
    """Starts one program of a test: the one place where that happens.

    `sandboxed` programs (built from a lab's sources: the student's, the reference) run in the
    grader's sandbox; `prefix` (strace, taskset) goes before the sandbox's launcher, outside
    it, where the program can neither see nor change what it writes; Valgrind goes inside,
    next to the program it checks, and writes to a descriptor opened here (the session folder
    is not visible in the sandbox). Every program gets CLEAN_ENV and nothing else, except that
    the kit's own peers (not sandboxed) also learn the student's language, to speak it."""
    env = dict(CLEAN_ENV, HOME=str(cwd), TMPDIR=str(cwd))
    if not sandboxed:
        env.update(child_environment())
    if sanitizers:
        env.update(SANITIZER_ENV)
    inner, log_fd = list(argv), -1
    if valgrind:
        opened = os.open(out / f"{name}.valgrind", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        log_fd = fcntl.fcntl(opened, fcntl.F_DUPFD_CLOEXEC, VALGRIND_LOG_FD)
        os.close(opened)
        inner = VALGRIND + [f"--log-fd={log_fd}"] + inner
    wrap = sandbox_wrap() if sandboxed else []
    if valgrind and wrap and (libc_debug := debuginfo.debug_file()):
        env["SOCKLAB_SANDBOX_HIDE"] = str(libc_debug)   # for the launcher: the program never
                                                        # sees it (debuginfo.py says why)
    full = [*(prefix or []), *wrap, *inner]
    shown = [*(prefix or []), *argv]
    transcript.add("harness", f"starts {name}: {shlex.join(shown)}")
    try:
        program = Program(name, full, out, transcript, cwd, env, stdin,
                          (log_fd,) if log_fd >= 0 else (), sandboxed=sandboxed)
    finally:
        if log_fd >= 0:
            os.close(log_fd)
    (out / f"{name}.argv").write_text(shlex.join(argv) + "\n")   # as run by hand
    return program


# --- system-call traces --------------------------------------------------------------------

# strace runs outside the sandbox, where the program cannot write its log; it follows the
# sandbox's launcher too, so the log also holds the launcher's calls (name lookups open
# sockets): program_trace keeps only what the program did after it was executed.
# --seccomp-bpf stops the traced processes at the listed calls only, not at every call: a
# program under Valgrind makes thousands, and stopping at each doubled its run's cost.
PROCESS_CALLS = "execve,clone,clone3,fork,vfork"
STRACE_PID = re.compile(r"^(\d+) +(?:<\.\.\. )?(\w+)")
STRACE_RESULT = re.compile(r"= (\d+)(?: <[^>]*>)?$")


def trace_prefix(log: Path, calls: str) -> list[str]:
    return ["strace", "-f", "--seccomp-bpf", "-qq", "-o", str(log),
            "-e", f"trace={PROCESS_CALLS},{calls}"]


def valgrind_path() -> str:
    """Valgrind's path as a sandboxed program's PATH (CLEAN_ENV) finds it."""
    return shutil.which(VALGRIND[0], path=CLEAN_ENV["PATH"]) or VALGRIND[0]


def program_trace(raw: str, program: str, calls: str) -> list[str]:
    """The lines of an `strace -f` log made by `program` (its path as executed) and the
    processes it started, for the system calls in `calls` only."""
    wanted = set(calls.split(","))
    started = f'execve("{program}"'
    mine: set[str] = set()
    kept = []
    for line in raw.splitlines():
        found = STRACE_PID.match(line)
        if not found:
            continue
        pid, call = found.groups()
        if pid not in mine:
            if started in line:
                mine.add(pid)
            continue
        if call in ("clone", "clone3", "fork", "vfork") and (child := STRACE_RESULT.search(line)):
            mine.add(child.group(1))
        if call in wanted:
            kept.append(line)
    return kept


def handed_out_ports() -> range:
    """The ports a session hands out: those below the kernel's ephemeral range. The kernel
    gives a socket that binds no port itself (a client's, the relay's, a TFTP transfer's) one
    from that range, at any moment: a port drawn from it (by bind(0)) could be taken that way
    between the draw and its server's bind, and a correct server then failed with "Address
    already in use" (once in a make test, lab 06, two tests side by side)."""
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = DEFAULT_EPHEMERAL_LOW
    return range(LOWEST_PORT, max(low, LOWEST_PORT + 1))


def free_port(proto: str) -> int:
    """A port the OS finds free for `proto` (a bind to it succeeds; for TCP, nobody listens
    on it), outside its ephemeral range (handed_out_ports), that no other session of this Bats
    run was handed: tests of one run may run side by side."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    registry = os.environ.get("BATS_RUN_TMPDIR")
    ports = handed_out_ports()
    draw = random.SystemRandom()    # never SOCKLAB_SEED's: runs side by side would draw alike
    for _ in range(PORT_TRIES):
        port = draw.choice(ports)
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:         # in use
                continue
        if registry is None or claim_port(Path(registry) / "ports-handed-out", port):
            return port
    raise SessionError(tr("no free {proto} port in {tries} tries").format(proto=proto,
                                                                        tries=PORT_TRIES))


def claim_port(registry: Path, port: int) -> bool:
    """Records `port` as this run's, unless another session has it (an flock'd list)."""
    with open(registry, "a+") as ports:
        fcntl.flock(ports, fcntl.LOCK_EX)   # released when the file is closed
        ports.seek(0)
        if str(port) in ports.read().split():
            return False
        ports.write(f"{port}\n")
        return True


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants: a wrapper (strace, a sandbox) runs the program as a child."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                todo.extend(int(child) for child in children.split())
        except OSError:
            continue
    return tree


def occupy(proto: str, port: int) -> socket.socket:
    """Holds `port` the way another server would, so that the program's bind() must fail."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    holder = socket.socket(socket.AF_INET, kind)
    holder.bind(("0.0.0.0", port))
    if proto == "tcp":
        holder.listen()
    return holder


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets that process `pid` or its descendants hold open."""
    inodes = set()
    for member in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{member}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def hidden_owners(pid: int) -> set[int]:
    """The users of the members of `pid`'s tree whose descriptors we may not read. Root lacks
    CAP_SYS_PTRACE in a container run without privileges, so it cannot list the descriptors of
    a program that the sandbox runs as another user; that user is then the run's own."""
    owners = set()
    for member in process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{member}/fd")     # listing may work where reading does not
            if fds:
                os.readlink(f"/proc/{member}/fd/{fds[0]}")
            continue
        except PermissionError:
            pass
        except OSError:
            continue
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                owners.add(int(line.split()[1]))     # the real uid
    return owners


def bound_inodes(proto: str, port: int, owners: set[int] | None = None) -> set[str]:
    """Inodes of the sockets bound to `port` (listening, for TCP); only those of `owners` (uids)
    when given."""
    return {bound.inode for bound in sockdiag.bound_sockets(proto, port)
            if owners is None or bound.uid in owners}


def wait_bound(program: Program, proto: str, port: int, deadline_s: float) -> None:
    """Waits until `program` itself holds a socket bound to `port`: a connection attempt would
    use up the server's one accept(), and a fixed sleep is either slow or flaky."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        bound = bound_inodes(proto, port)
        # Its own socket; or, when its descriptors are hidden from us, one its user holds.
        if bound and (bound & socket_inodes(program.proc.pid) or
                      bound_inodes(proto, port, hidden_owners(program.proc.pid))):
            program.transcript.add("harness", tr("{name} is bound to {proto} port {port}").format(
                name=program.name, proto=proto, port=port))
            return
        if program.proc.poll() is not None:
            raise SessionError(tr("{name} exited ({status}) before binding {proto} port "
                                  "{port}").format(name=program.name,
                                                   status=program.poll_status(), proto=proto,
                                                   port=port))
        time.sleep(POLL_S)
    program.status = "no bind"
    raise SessionError(tr("{name} did not bind {proto} port {port} within {seconds} s — does it "
                          "use the PORT argument?").format(name=program.name, proto=proto,
                                                           port=port,
                                                           seconds=f"{deadline_s:g}"))


# --- memory-check reports -------------------------------------------------------------------

VALGRIND_PREFIX = re.compile(r"^==\d+== ?")
VALGRIND_ERROR = re.compile(
    r"^(Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|"
    r"Source and destination overlap|Argument .* of function|\d[\d,]* bytes in [\d,]+ blocks "
    r"are (definitely|indirectly|possibly) lost)")
VALGRIND_FD = re.compile(r"^Open (file descriptor|AF_\w+ socket) (\d+)")


def valgrind_findings(log: str) -> list[str]:
    """The errors, leaks and descriptors left open that Valgrind reported, each with the
    first line of its stack. Descriptors inherited from the harness are not the program's."""
    lines = [VALGRIND_PREFIX.sub("", raw) for raw in log.splitlines()]
    findings = []
    for i, line in enumerate(lines):
        fd = VALGRIND_FD.match(line)
        if VALGRIND_ERROR.match(line) or (fd and int(fd.group(2)) > 2):
            block = [line]
            for follow in lines[i + 1:i + 4]:
                if not follow.strip():
                    break
                block.append(follow.strip())
            if any("<inherited from parent>" in b for b in block):
                continue
            if fd:
                block[0] = tr("descriptor {number} not closed at exit: {line}").format(
                    number=fd.group(2), line=line)
            findings.append(" | ".join(block))
    return findings


SANITIZER_ERROR = re.compile(r"(ERROR: (Address|Leak)Sanitizer: .*|runtime error: .*)")
SANITIZER_FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ in (\S+) (\S+\.[ch]:\d+)")


def sanitizer_findings(stderr: str) -> list[str]:
    """The first AddressSanitizer, LeakSanitizer or UBSan report, with the program's frame."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        found = SANITIZER_ERROR.search(line)
        if not found:
            continue
        if "runtime error:" in line:          # UBSan names the place before the message
            return [line.strip()]
        for follow in lines[i + 1:i + 40]:
            frame = SANITIZER_FRAME.search(follow)
            if frame and "/libsanitizer/" not in frame.group(2):
                return [f"{found.group(1).strip()} | at {frame.group(1)} ({frame.group(2)})"]
        return [found.group(1).strip()]
    return []


# --- the session ----------------------------------------------------------------------------

@dataclass
class Options:
    out: Path
    proto: str
    server: list[str]
    client: list[str]
    valgrind: set[str]
    sanitizers: bool
    cwd: Path
    deadline_s: float
    script: list[str]
    client_stdin: str | None
    server_stdin: str | None
    relay: list[str] | None
    port: int | None
    occupy: bool
    alone: list[list[str]] = field(default_factory=list)   # --run: programs without a peer
    server_grace_s: float = SERVER_GRACE_S
    server_is_reference: bool = False
    peers: set[str] = field(default_factory=set)           # sides run by the harness's tools
    prefixes: dict[str, list[str]] = field(default_factory=dict)   # name: words before it
    traces: dict[str, str] = field(default_factory=dict)     # name: system calls to trace


def expand(argv: list[str], port: int, upstream: int) -> list[str]:
    return [a.replace("{port}", str(port)).replace("{server_port}", str(upstream))
            for a in argv]


def stdin_for(source: str | None, scripted: bool) -> IO[bytes] | int:
    if scripted:
        return subprocess.PIPE
    if source is None:
        return subprocess.DEVNULL
    return open(source, "rb")


def run_script(steps: list[str], programs: dict[str, Program], transcript: Transcript,
               line_deadline_s: float, deadline_s: float) -> None:
    for number, step in enumerate(steps, 1):
        step = step.rstrip("\n")
        if not step.strip() or step.lstrip().startswith("#"):
            continue
        verb, _, rest = step.partition(" ")
        name, _, text = rest.partition(" ")
        if name not in programs:
            raise SessionError(tr("script step {number} names no program: {step}").format(
                number=number, step=repr(step)))
        program = programs[name]
        if verb == "send":
            program.send(text)
        elif verb == "expect":
            program.expect(text, line_deadline_s)
        elif verb == "close":
            program.close_stdin()
        elif verb == "wait":
            if program.wait(deadline_s) == "timeout":
                raise SessionError(tr("{name} did not exit within {seconds} s").format(
                    name=name, seconds=f"{deadline_s:g}"))
        else:
            raise SessionError(tr("script step {number} is not understood: {step}").format(
                number=number, step=repr(step)))
        # quoted, as the errors above quote it: the step is the script's text, not a sentence
        transcript.add("harness", tr("step {number} done: {step}").format(number=number,
                                                                          step=repr(step)))


def run(opts: Options) -> int:
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.is_file():
            stale.unlink()
    transcript = Transcript()
    slow = VALGRIND_SLOWDOWN if opts.valgrind else 1.0
    port = opts.port or free_port(opts.proto)
    (out / "port").write_text(f"{port}\n")
    programs: dict[str, Program] = {}
    programs_argv0: dict[str, str] = {}
    scripted = bool(opts.script)
    error: str | None = None

    def start(name: str, argv: list[str], stdin_source: str | None) -> Program:
        # the relay and the peers are the kit's own tools; all else is built from a lab
        sandboxed = name != "relay" and name not in opts.peers
        prefix = opts.prefixes.get(name, [])
        if name in opts.traces:
            prefix = trace_prefix(out / f"{name}.strace", opts.traces[name]) + prefix
        program = launch(name, argv, out=out, transcript=transcript, cwd=opts.cwd,
                         stdin=stdin_for(stdin_source, scripted), sandboxed=sandboxed,
                         prefix=prefix, valgrind=name in opts.valgrind,
                         sanitizers=opts.sanitizers and sandboxed)
        programs[name] = program
        # what the trace shows executed: the program, or Valgrind, which runs the program's
        # code and makes its system calls in its own process (it never executes the program)
        programs_argv0[name] = valgrind_path() if name in opts.valgrind else argv[0]
        return program

    holder = occupy(opts.proto, port) if opts.occupy else None
    try:
        client_port = port
        if opts.server:
            server = start("server", expand(opts.server, port, port), opts.server_stdin)
            if holder is None:
                wait_bound(server, opts.proto, port, BIND_DEADLINE_S * slow)
        if opts.relay is not None:
            client_port = free_port(opts.proto)
            relay = start("relay", expand(opts.relay, client_port, port), None)
            wait_bound(relay, opts.proto, client_port, BIND_DEADLINE_S)
        for number, argv in enumerate(opts.alone, 1):
            start(f"run{number}", argv, opts.client_stdin)
        if opts.client:
            start("client", expand(opts.client, client_port, port), opts.client_stdin)
        deadline = opts.deadline_s * slow
        if scripted:
            run_script(opts.script, programs, transcript, LINE_DEADLINE_S * slow, deadline)
        end = time.monotonic() + deadline
        for number in range(1, len(opts.alone) + 1):
            programs[f"run{number}"].wait(end - time.monotonic())
        if "client" in programs:
            client_status = programs["client"].wait(end - time.monotonic())
            grace = opts.server_grace_s
            if opts.server_is_reference and client_status != "exit 0":
                grace = min(grace, REFERENCE_GRACE_S)
                transcript.add("harness", tr("the client failed ({status}): the reference "
                                             "server gets {seconds} s to end, not {full}").format(
                    status=client_status, seconds=f"{grace:g}",
                    full=f"{opts.server_grace_s:g}"))
            end = min(end, time.monotonic() + grace * slow)
        if "server" in programs:
            programs["server"].wait(end - time.monotonic())
    except SessionError as failure:
        error = str(failure)
        transcript.add("harness", tr("FAILED: {error}").format(error=error))
    finally:
        for program in programs.values():
            program.finish()
        if holder is not None:
            holder.close()
    if scripted or error:
        (out / "script.result").write_text(f"{error or 'ok'}\n")
    if "relay" in programs:   # the relay has no end of its own
        (out / "relay.status").write_text("exit 0\n")
    for name, calls in opts.traces.items():
        log = out / f"{name}.strace"
        if name in programs and log.exists():
            lines = program_trace(log.read_text(errors="replace"), programs_argv0[name], calls)
            (out / f"{name}.trace").write_text("".join(f"{line}\n" for line in lines))
    for name in programs:
        if name in opts.valgrind:
            log = out / f"{name}.valgrind"
            findings = valgrind_findings(log.read_text(errors="replace")) if log.exists() \
                else [tr("Valgrind wrote no report")]
            (out / f"{name}.memcheck").write_text("\n".join(findings or ["clean"]) + "\n")
        elif opts.sanitizers and name != "relay":
            stderr = (out / f"{name}.stderr").read_text(errors="replace")
            (out / f"{name}.memcheck").write_text(
                "\n".join(sanitizer_findings(stderr) or ["clean"]) + "\n")
    (out / "transcript").write_text("\n".join(transcript.lines) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    command = f"command line, words joined with {ARGV_SEP!r}; {{port}} becomes the port"
    parser.add_argument("--out", type=Path, required=True, help="folder for the results")
    parser.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    for side in ("server", "client"):
        chosen = parser.add_mutually_exclusive_group()
        chosen.add_argument(f"--{side}", default="", help=f"the lab's {side}: {command}")
        chosen.add_argument(f"--{side}-peer", default="",
                            help=f"a harness tool in the {side}'s place (nc, socat, a scripted "
                                 f"peer), run outside the sandbox: {command}")
        parser.add_argument(f"--{side}-prefix", default="",
                            help=f"words before the {side}, outside the sandbox (taskset, "
                                 f"a fault injection): {command}")
        parser.add_argument(f"--{side}-trace", default="", metavar="CALLS",
                            help=f"trace these system calls of the {side} (comma-separated) "
                                 f"into {side}.trace")
    parser.add_argument("--relay", default=None,
                        help="relay between them (the harness's own): {port} is where it "
                             "listens, {server_port} the server's port; " + command)
    parser.add_argument("--server-grace", type=float, default=SERVER_GRACE_S,
                        help="seconds the server may go on once the client has ended (0 for a "
                             "stand-in server whose end does not matter)")
    parser.add_argument("--server-is-reference", action="store_true",
                        help=f"the server is the reference: once the client has failed, it "
                             f"gets {REFERENCE_GRACE_S:g} s to end, not the whole grace")
    parser.add_argument("--run", action="append", default=[],
                        help="run this lab program alone, without a peer (repeatable: all run "
                             "side by side, results as 'run1.*', 'run2.*', ...), e.g. to check "
                             "how programs treat bad arguments: " + command)
    parser.add_argument("--run-trace", default="", metavar="CALLS",
                        help="trace these system calls of every --run program into "
                             "runN.trace")
    parser.add_argument("--port", type=int, default=None, help="use this port, not a free one")
    parser.add_argument("--occupy", action="store_true",
                        help="hold the port busy, as another program would (port-in-use tests)")
    parser.add_argument("--valgrind", default="", help="comma-separated: server,client")
    parser.add_argument("--sanitizers", action="store_true",
                        help="the programs are sanitizer builds: read their reports")
    parser.add_argument("--cwd", type=Path, default=None, help="the programs' working folder "
                        "(default: this one)")
    parser.add_argument("--deadline", type=float, default=10.0,
                        help="seconds the whole session may take (more under Valgrind)")
    parser.add_argument("--script", type=Path, default=None, help="conversation script file")
    parser.add_argument("--client-stdin", default=None, help="file the client reads as stdin")
    parser.add_argument("--server-stdin", default=None, help="file the server reads as stdin")
    return parser


# Built once, as the module is imported: the harness server (harness_server.py) imports it
# before it forks a child for each session, which then only parses its arguments (building the
# parser, whose patterns argparse compiles, was ~2 ms of CPU in every session).
PARSER = build_parser()


def main(argv: list[str] | None = None) -> int:
    args = PARSER.parse_args(argv)
    prefixes = {side: split_argv(getattr(args, f"{side}_prefix")) for side in ("server", "client")}
    runs = [split_argv(joined) for joined in args.run]
    traces = {side: getattr(args, f"{side}_trace") for side in ("server", "client")}
    traces.update({f"run{number}": args.run_trace for number in range(1, len(runs) + 1)})
    opts = Options(
        out=args.out, proto=args.proto,
        server=split_argv(args.server or args.server_peer),
        client=split_argv(args.client or args.client_peer),
        valgrind=set(filter(None, args.valgrind.split(","))),
        sanitizers=args.sanitizers, cwd=args.cwd or Path.cwd(), deadline_s=args.deadline,
        script=args.script.read_text().splitlines() if args.script else [],
        client_stdin=args.client_stdin, server_stdin=args.server_stdin,
        relay=split_argv(args.relay) if args.relay is not None else None, port=args.port,
        occupy=args.occupy, alone=runs, server_grace_s=args.server_grace,
        server_is_reference=args.server_is_reference,
        peers={side for side in ("server", "client") if getattr(args, f"{side}_peer")},
        prefixes={name: words for name, words in prefixes.items() if words},
        traces={name: calls for name, calls in traces.items() if calls})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))  # Bats' timeout: still clean up
    return run(opts)


if __name__ == "__main__":
    sys.exit(main())
