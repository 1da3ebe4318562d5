#!/usr/bin/python3
"""Lab 09's test driver: a TFTP server under test, real TFTP clients, and a rude peer.

    tftppeer.py SCENARIO --out DIR --server PROGRAM --work DIR [--valgrind] [--sanitizers]

Starts PROGRAM (the lab's server, built from the tree under test) as `PROGRAM PORT root` in
the folder --work, through session.py's launch() like every program a test runs: inside the
grader's sandbox, with a clean environment, a deadline, capped output, its process group
killed at the end. Then it plays SCENARIO (one per test of
labs/09-tftp-server/tests/tftp-server.bats, named by the test's id), with real clients
(tftp-hpa's `tftp`, `atftp`, `curl`, run by the same launch(), outside the sandbox) and with a
peer of its own that speaks TFTP packet by packet:
what polite clients send, and what they never would (malformed packets, unknown opcodes, a
stranger's packets, duplicate ACKs, a request and then silence, names that try to leave ROOT).
Last it stops the server with SIGTERM.

It writes what session.py writes (server.stdout, server.stderr, server.status, server.argv,
transcript, server.memcheck with --valgrind/--sanitizers, pids), plus `scenario.result`: "ok",
or what the first failed check expected and what happened. The Bats test reads that file.

Files: the server serves WORK/root (made world-writable: the sandboxed server runs as a user
of its own); the clients work in WORK/client; WORK itself holds what must stay out of reach
(secret.txt, and whatever a write that escaped ROOT would create).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import session  # noqa: E402  (the one place that starts programs)
# Messages speak the grader's language (SOCKLAB_LANG, else the locale): session.py's `tr`, which
# is grader/i18n.py's `_`. Packets, opcodes and the contract's lines inside them stay as they are.
from session import mark, tr  # noqa: E402

# --- the protocol, as the peer speaks it ------------------------------------------------------

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6
OPCODE_NAMES = {RRQ: "RRQ", WRQ: "WRQ", DATA: "DATA", ACK: "ACK", ERROR: "ERROR", OACK: "OACK"}
BLOCK_MODULO = 1 << 16
DEFAULT_BLKSIZE = 512
DATAGRAM_MAX = 65536

# --- timing (seconds; multiplied by SLOWDOWN under Valgrind) ---------------------------------

REPLY_S = 2.0            # a server's answer to a packet, on a loaded machine
QUIET_S = 0.4            # "nothing more comes": how long silence is watched for
LINE_S = 3.0             # a line for a transfer that has ended
CLIENT_S = 30.0          # one real client's transfer
LARGE_CLIENT_S = 45.0    # a real client moving 32 MiB
STOP_S = 3.0             # from SIGTERM to the server's exit
DEFAULT_TIMEOUT_S = 1.0  # the contract's retransmission timeout unless negotiated
MAX_TRIES = 5            # the contract: sends of one packet before a transfer is abandoned
SLOWDOWN = 1.0           # set from --valgrind

SECRET = b"TOP SECRET: this file is outside ROOT and must never be served\n"
LOCAL = "127.0.0.1"


def slow(seconds: float) -> float:
    return seconds * SLOWDOWN


class Failure(Exception):
    """A check failed; the message says what was expected and what happened."""


@dataclass
class Packet:
    opcode: int
    number: int = 0           # block number, or error code
    payload: bytes = b""      # DATA's bytes, ERROR's message
    options: dict[str, str] = field(default_factory=dict)   # OACK, names in lower case
    source: int = 0           # the port it came from
    raw: bytes = b""
    time: float = 0.0         # when it arrived (time.monotonic())

    def __str__(self) -> str:
        name = OPCODE_NAMES.get(self.opcode, f"opcode {self.opcode}")
        if self.opcode in (DATA, ACK):
            extra = f" {self.number}" + (tr(" ({count} bytes)").format(count=len(self.payload))
                                         if self.opcode == DATA else "")
        elif self.opcode == ERROR:
            extra = f" {self.number} {self.payload.decode('latin-1')!r}"
        elif self.opcode == OACK:
            extra = " " + " ".join(f"{k}={v}" for k, v in self.options.items())
        else:
            extra = f" {self.raw[:40]!r}"
        return f"{name}{extra}"


def parse(raw: bytes, source: int) -> Packet:
    if len(raw) < 2:
        return Packet(-1, raw=raw, source=source)
    opcode = struct.unpack("!H", raw[:2])[0]
    packet = Packet(opcode, raw=raw, source=source)
    if opcode in (DATA, ACK, ERROR) and len(raw) >= 4:
        packet.number = struct.unpack("!H", raw[2:4])[0]
        packet.payload = raw[4:]
        if opcode == ERROR:
            packet.payload = packet.payload.split(b"\0", 1)[0]
    elif opcode == OACK:
        words = raw[2:].split(b"\0")
        if words and words[-1] == b"":
            words.pop()
        for name, value in zip(words[::2], words[1::2]):
            packet.options[name.decode("latin-1").lower()] = value.decode("latin-1")
    return packet


def request(opcode: int, name: bytes, mode: bytes = b"octet",
            options: Iterable[tuple[str, str]] = ()) -> bytes:
    body = name + b"\0" + mode + b"\0"
    for key, value in options:
        body += key.encode() + b"\0" + value.encode() + b"\0"
    return struct.pack("!H", opcode) + body


def data(block: int, payload: bytes) -> bytes:
    return struct.pack("!HH", DATA, block % BLOCK_MODULO) + payload


def ack(block: int) -> bytes:
    return struct.pack("!HH", ACK, block % BLOCK_MODULO)


def error(code: int, message: bytes = b"") -> bytes:
    return struct.pack("!HH", ERROR, code) + message + b"\0"


def netascii(text: bytes) -> bytes:
    """RFC 1350's netascii: a file's bytes as they travel."""
    return text.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


def blocks_of(content: bytes, size: int) -> list[bytes]:
    """A file cut into DATA payloads: full blocks, then a shorter one (maybe empty)."""
    return [content[i:i + size] for i in range(0, len(content) + 1, size)]


def sha(data_bytes: bytes) -> str:
    return hashlib.sha256(data_bytes).hexdigest()[:16]


# --- the lab: server, folders, transcript ----------------------------------------------------

class Lab:
    """One run: the server under test, its folders, and what happened."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.out: Path = args.out
        self.work: Path = args.work
        self.root = self.work / "root"
        self.client_dir = self.work / "client"
        self.transcript = session.Transcript()
        self.server_path: str = args.server
        self.valgrind: bool = args.valgrind
        self.sanitizers: bool = args.sanitizers
        self.port = 0
        self.server: session.Program | None = None
        self.programs: list[session.Program] = []
        self.rng = random.Random(args.seed)
        self.banner_lines = 1

    # folders and files

    def prepare(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in self.out.iterdir():
            if stale.is_file():
                stale.unlink()
        for folder in (self.root, self.client_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # The sandboxed server runs as a user of its own: ROOT must be writable for it. WORK
        # (its working folder) is given to that user by the sandbox.
        os.chmod(self.root, 0o777)
        (self.work / "secret.txt").write_bytes(SECRET)

    def put(self, name: str, content: bytes) -> bytes:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return content

    def random_bytes(self, size: int) -> bytes:
        return self.rng.randbytes(size)

    def note(self, text: str) -> None:
        self.transcript.add("harness", text)

    # the server

    def start_server(self) -> None:
        self.port = session.free_port("udp")
        (self.out / "port").write_text(f"{self.port}\n")
        self.server = session.launch(
            "server", [self.server_path, str(self.port), "root"], out=self.out,
            transcript=self.transcript, cwd=self.work, stdin=subprocess.DEVNULL, sandboxed=True,
            valgrind=self.valgrind, sanitizers=self.sanitizers)
        session.wait_bound(self.server, "udp", self.port, slow(session.BIND_DEADLINE_S))

    def stop_server(self, signal_number: int = signal.SIGTERM) -> str:
        """Sends the server (the program itself, inside its sandbox) a signal; waits for it."""
        assert self.server is not None
        if self.server.proc.poll() is None:
            self.note(tr("sends {signal} to the server").format(
                signal=signal.Signals(signal_number).name))
            for pid in program_pids(self.server.proc.pid):
                try:
                    os.kill(pid, signal_number)
                except ProcessLookupError:
                    pass
        return self.server.wait(slow(STOP_S))

    def server_lines(self) -> list[str]:
        assert self.server is not None
        with self.server.line_added:
            return list(self.server.stdout_lines)

    def expect_banner(self) -> None:
        wanted = f"TFTP server on port {self.port}, serving root."
        deadline = time.monotonic() + slow(REPLY_S)
        while time.monotonic() < deadline and not self.server_lines():
            time.sleep(session.POLL_S)
        lines = self.server_lines()
        if not lines or lines[0] != wanted:
            raise Failure(tr("the server's first line should be {wanted}; it printed {got}")
                          .format(wanted=repr(wanted),
                                  got=repr(lines[0]) if lines else tr("nothing")))

    def alive(self) -> None:
        assert self.server is not None
        if self.server.proc.poll() is not None:
            raise Failure(tr("the server is no longer running ({status}): a server must "
                             "survive anything a client sends").format(
                status=self.server.poll_status()))

    def expect_lines(self, patterns: list[str], why: str) -> None:
        """The server's lines after its first one are, in any order, one for each pattern (a
        regular expression matched against the whole line) — and no others."""
        wanted = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + slow(LINE_S)
        while True:
            got = self.server_lines()[self.banner_lines:]
            missing, extra = match_lines(wanted, got)
            if (not missing and not extra) or time.monotonic() > deadline:
                break
            if extra and len(got) >= len(wanted):
                break
            time.sleep(session.POLL_S * 4)
        if missing or extra:
            report = [f"  {mark('GOOD')}{line}" for line in got if line not in extra]
            report += [f"  {mark('MISSING')}" + tr("a line like /{pattern}/").format(
                pattern=p.pattern) for p in missing]
            report += [f"  {mark('UNEXPECTED')}{line}" for line in extra]
            raise Failure(tr("{why}: the server's lines (after its first) do not match the "
                             "contract's ('RRQ NAME from ADDRESS: N bytes', 'WRQ ...', "
                             "'... failed: REASON'):").format(why=why) + "\n"
                          + "\n".join(report))

    # real clients

    def run_client(self, argv: list[str], deadline_s: float = CLIENT_S) -> session.Program:
        program = self.start_client(argv)
        self.finish_client(program, deadline_s)
        return program

    def start_client(self, argv: list[str]) -> session.Program:
        name = f"client{len(self.programs) + 1}"
        program = session.launch(name, argv, out=self.out, transcript=self.transcript,
                                 cwd=self.client_dir, stdin=subprocess.DEVNULL,
                                 sandboxed=False)
        self.programs.append(program)
        return program

    def finish_client(self, program: session.Program, deadline_s: float = CLIENT_S) -> str:
        status = program.wait(slow(deadline_s))
        program.finish()
        return status

    def client_file(self, name: str) -> bytes:
        path = self.client_dir / name
        return path.read_bytes() if path.exists() else b""

    def same(self, what: str, got: bytes, expected: bytes) -> None:
        if got != expected:
            where = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                         min(len(got), len(expected)))
            raise Failure(tr("{what}: {got} bytes (SHA-256 {got_sha}…) where {expected} were "
                             "expected (SHA-256 {expected_sha}…); the first difference is at "
                             "byte {where}").format(what=what, got=len(got), got_sha=sha(got),
                                                    expected=len(expected),
                                                    expected_sha=sha(expected), where=where))

    # the rude peer

    def peer(self) -> Peer:
        return Peer(self)


def program_pids(pid: int) -> list[int]:
    """The program itself among `pid` and its descendants: the processes with no children.
    A sandboxed program runs under bubblewrap's two processes, which do not pass signals on;
    Valgrind runs as the program's own process."""
    tree = session.process_tree(pid)
    parents = set()
    for member in tree:
        try:
            with open(f"/proc/{member}/stat") as stat:
                parents.add(int(stat.read().rsplit(")", 1)[1].split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return [member for member in tree if member not in parents] or [pid]


def match_lines(wanted: list[re.Pattern[str]], got: list[str]
                ) -> tuple[list[re.Pattern[str]], list[str]]:
    """Pairs each line with a pattern (greedy, in order); returns what is left of each."""
    missing = list(wanted)
    extra = []
    for line in got:
        for pattern in missing:
            if pattern.fullmatch(line):
                missing.remove(pattern)
                break
        else:
            extra.append(line)
    return missing, extra


class Peer:
    """A TFTP client the test controls packet by packet, on a port of its own."""

    count = 0

    def __init__(self, lab: Lab, host: str = LOCAL) -> None:
        Peer.count += 1
        self.lab = lab
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.name = tr("peer {port}").format(port=self.port)
        self.tid: int | None = None   # the server's port for this transfer, once it answers
        self.received: list[Packet] = []

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, raw: bytes, port: int | None = None, shown: str | None = None) -> None:
        port = port or self.tid or self.lab.port
        self.sock.sendto(raw, (LOCAL, port))
        self.lab.transcript.add(self.name, f"→ :{port} {shown or parse(raw, 0)}")

    def request(self, opcode: int, name: bytes, mode: bytes = b"octet",
                options: Iterable[tuple[str, str]] = ()) -> None:
        options = list(options)
        shown = (f"{OPCODE_NAMES[opcode]} {name[:60]!r}{'...' if len(name) > 60 else ''} "
                 f"{mode.decode('latin-1')}" + "".join(f" {k}={v}" for k, v in options))
        self.tid = None
        self.send_raw(request(opcode, name, mode, options), self.lab.port, shown)

    def recv(self, wait_s: float = REPLY_S) -> Packet | None:
        """The next packet, or None after `wait_s` of silence. The first answer to a request
        tells the server's transfer port."""
        self.sock.settimeout(slow(wait_s))
        try:
            raw, (_, port) = self.sock.recvfrom(DATAGRAM_MAX)
        except (TimeoutError, socket.timeout):
            return None
        packet = parse(raw, port)
        packet.time = time.monotonic()
        if self.tid is None:
            self.tid = port
        self.received.append(packet)
        self.lab.transcript.add(self.name, f"← :{port} {packet}")
        return packet

    def expect(self, what: str, wait_s: float = REPLY_S) -> Packet:
        packet = self.recv(wait_s)
        if packet is None:
            self.lab.alive()
            raise Failure(tr("expected {what} from the server within {seconds} s; nothing "
                             "came").format(what=what, seconds=f"{slow(wait_s):g}"))
        return packet

    def expect_data(self, block: int, size: int | None = None,
                    wait_s: float = REPLY_S) -> Packet:
        packet = self.expect(f"DATA {block % BLOCK_MODULO}", wait_s)
        if packet.opcode != DATA or packet.number != block % BLOCK_MODULO:
            wanted = (tr("DATA {block} of {size} bytes") if size is not None else
                      "DATA {block}").format(block=block % BLOCK_MODULO, size=size)
            raise Failure(tr("expected {what}, got {packet}").format(what=wanted, packet=packet))
        if size is not None and len(packet.payload) != size:
            raise Failure(tr("expected DATA {block} of {size} bytes, got {count} bytes").format(
                block=block % BLOCK_MODULO, size=size, count=len(packet.payload)))
        return packet

    def expect_ack(self, block: int, wait_s: float = REPLY_S) -> Packet:
        packet = self.expect(f"ACK {block % BLOCK_MODULO}", wait_s)
        if packet.opcode != ACK or packet.number != block % BLOCK_MODULO:
            raise Failure(tr("expected {what}, got {packet}").format(
                what=f"ACK {block % BLOCK_MODULO}", packet=packet))
        return packet

    def expect_error(self, codes: Iterable[int], why: str, wait_s: float = REPLY_S) -> Packet:
        codes = tuple(codes)
        shown = error_codes(codes)
        packet = self.expect(f"ERROR {shown} ({why})", wait_s)
        if packet.opcode != ERROR or packet.number not in codes:
            raise Failure(tr("{why}: expected {what}, got {packet}").format(
                why=why, what=f"ERROR {shown}", packet=packet))
        return packet

    def expect_oack(self, wait_s: float = REPLY_S) -> Packet:
        packet = self.expect(tr("an OACK"), wait_s)
        if packet.opcode != OACK:
            raise Failure(tr("expected an OACK (the request carried options the contract "
                             "accepts), got {packet}").format(packet=packet))
        return packet

    def expect_quiet(self, what: str, wait_s: float = QUIET_S) -> None:
        """Nothing new for `wait_s`. A copy of a packet already received is the server's timer
        at work (a loaded machine may delay the test past a timeout), not a fault: ignored."""
        end = time.monotonic() + slow(wait_s)
        seen = {p.raw for p in self.received}
        while (left := end - time.monotonic()) > 0:
            packet = self.recv(left / SLOWDOWN)
            if packet is None:
                return
            if packet.raw not in seen:
                raise Failure(tr("{what}; but the server sent {packet}").format(what=what,
                                                                                packet=packet))

    def read_file(self, name: bytes, blksize: int = DEFAULT_BLKSIZE, mode: bytes = b"octet",
                  options: Iterable[tuple[str, str]] = ()) -> bytes:
        """A whole RRQ, window 1, each DATA acknowledged once. Returns the bytes received."""
        options = list(options)
        self.request(RRQ, name, mode, options)
        if options:
            self.expect_oack()
            self.send_raw(ack(0))
        received = b""
        block = 1
        while True:
            packet = self.expect_data(block)
            if len(packet.payload) > blksize:
                raise Failure(tr("DATA {block} carries {count} bytes, more than the block size "
                                 "{size}").format(block=block, count=len(packet.payload),
                                                  size=blksize))
            received += packet.payload
            self.send_raw(ack(block))
            if len(packet.payload) < blksize:
                return received
            block += 1

    def write_file(self, name: bytes, content: bytes, blksize: int = DEFAULT_BLKSIZE,
                   mode: bytes = b"octet", options: Iterable[tuple[str, str]] = ()) -> None:
        """A whole WRQ, window 1: each DATA sent once its predecessor is acknowledged."""
        options = list(options)
        self.request(WRQ, name, mode, options)
        if options:
            self.expect_oack()
        else:
            self.expect_ack(0)
        for block, payload in enumerate(blocks_of(content, blksize), start=1):
            self.send_raw(data(block, payload))
            self.expect_ack(block)


# --- checks shared by scenarios --------------------------------------------------------------

def error_codes(codes: Iterable[int]) -> str:
    """ERROR codes as a message names them: "2", "0 or 1 or 2"."""
    return tr(" or ").join(str(c) for c in codes)


def line(kind: str, name: str, size: int | None = None, port: int | None = None) -> str:
    """The pattern of the line for one transfer: its size, or a failure."""
    source = re.escape(f"{LOCAL}:") + (str(port) if port else r"\d+")
    end = f": {size} bytes" if size is not None else r" failed: .+"
    return f"{kind} {re.escape(name)} from {source}{end}"


def failed_line(kind: str, port: int | None = None) -> str:
    """A failure line whose name is not checked (a name full of escapes, or cut short)."""
    source = re.escape(f"{LOCAL}:") + (str(port) if port else r"\d+")
    return f"{kind} .* from {source} failed: .+"


def tftp_hpa(verb: str, port: int, remote: str, local: str, mode: str = "binary") -> list[str]:
    return ["tftp", LOCAL, str(port), "-m", mode, "-c", verb, *(
        [remote, local] if verb == "get" else [local, remote])]


def atftp(verb: str, port: int, remote: str, local: str,
          options: Iterable[tuple[str, str]] = ()) -> list[str]:
    argv = ["atftp", "--get" if verb == "get" else "--put", "-r", remote, "-l", local]
    for key, value in options:
        argv += ["--option", f"{key} {value}"]
    return argv + [LOCAL, str(port)]


# --- the scenarios: one per test -------------------------------------------------------------

SIZES = {"empty": 0, "511": 511, "512": 512, "513": 513, "100k": 100_000}


def scenario_start_stop(lab: Lab) -> None:
    """The banner, and a clean stop on SIGTERM, then (a second server) on SIGINT."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        if lab.server is None:
            lab.start_server()
        lab.expect_banner()
        status = lab.stop_server(sig)
        lines = lab.server_lines()
        if status != "exit 0" or lines[-1:] != ["TFTP server stopped."]:
            raise Failure(tr("on {signal} the server should print 'TFTP server stopped.' and "
                             "exit 0; it ended with {status}, its last line {line}").format(
                signal=sig.name, status=status,
                line=repr(lines[-1]) if lines else tr("none")))
        if sig == signal.SIGTERM:
            lab.server.finish()
            os.replace(lab.out / "server.stdout", lab.out / "server-sigterm.stdout")
            lab.server = None


def scenario_read(lab: Lab) -> None:
    """tftp-hpa's `get` (RFC 1350, no options) of files of 0, 511, 512, 513 bytes and 100 KB."""
    patterns = []
    for label, size in SIZES.items():
        name = f"read-{label}.bin"
        content = lab.put(name, lab.random_bytes(size))
        lab.run_client(tftp_hpa("get", lab.port, name, name))
        lab.same(tr("the file {name} as tftp-hpa received it").format(name=name),
                 lab.client_file(name), content)
        patterns.append(line("RRQ", name, size))
    lab.expect_lines(patterns, tr("after five reads"))


def scenario_write(lab: Lab) -> None:
    """tftp-hpa's `put` of the same sizes: each file appears in ROOT, whole."""
    patterns = []
    for label, size in SIZES.items():
        name = f"write-{label}.bin"
        content = lab.random_bytes(size)
        (lab.client_dir / name).write_bytes(content)
        lab.run_client(tftp_hpa("put", lab.port, name, name))
        written = lab.root / name
        if not written.exists():
            raise Failure(tr("after tftp-hpa's put of {name} ({size} bytes), ROOT has no "
                             "{name}").format(name=name, size=size))
        lab.same(tr("root/{name}, written by the server").format(name=name),
                 written.read_bytes(), content)
        patterns.append(line("WRQ", name, size))
    lab.expect_lines(patterns, tr("after five writes"))


# A text whose line ends fall on every side of 8-byte block boundaries once translated.
NETASCII_TEXT = b"line 1\nab\r\nx\rcd\n\n\r\r\nend of text\n1234567\n" + b"\n" * 9 + b"\r"


def scenario_netascii(lab: Lab) -> None:
    """netascii both ways, on the wire (blksize 8, so that CR LF and CR NUL pairs are cut by
    block ends) and with tftp-hpa, which translates back."""
    lab.put("text.txt", NETASCII_TEXT)
    peer = lab.peer()
    wire = peer.read_file(b"text.txt", blksize=8, mode=b"netascii", options=[("blksize", "8")])
    lab.same(tr("the bytes of a netascii RRQ of text.txt (each '\\n' must travel as CR LF, "
                "each '\\r' as CR NUL; RFC 1350)"), wire, netascii(NETASCII_TEXT))
    peer.close()
    peer = lab.peer()
    peer.write_file(b"upload.txt", netascii(NETASCII_TEXT), blksize=8, mode=b"netascii",
                    options=[("blksize", "8")])
    peer.close()
    lab.expect_lines([line("RRQ", "text.txt", len(NETASCII_TEXT)),
                      line("WRQ", "upload.txt", len(NETASCII_TEXT))],
                     tr("after a netascii read and write"))
    lab.same(tr("root/upload.txt, written from netascii (CR LF must become '\\n', CR NUL "
                "'\\r')"),
             (lab.root / "upload.txt").read_bytes(), NETASCII_TEXT)
    lab.run_client(tftp_hpa("get", lab.port, "text.txt", "text-back.txt", "netascii"))
    lab.same(tr("text.txt read by tftp-hpa in netascii mode"),
             lab.client_file("text-back.txt"), NETASCII_TEXT)
    (lab.client_dir / "mine.txt").write_bytes(NETASCII_TEXT)
    lab.run_client(tftp_hpa("put", lab.port, "mine.txt", "mine.txt", "netascii"))
    lab.same(tr("root/mine.txt written by tftp-hpa in netascii mode"),
             (lab.root / "mine.txt").read_bytes() if (lab.root / "mine.txt").exists() else b"",
             NETASCII_TEXT)


LARGE = 32 << 20   # 65536 blocks of 512 bytes, then an empty one: block numbers wrap


def scenario_large(lab: Lab) -> None:
    """32 MiB each way with 512-byte blocks: block 65535 is followed by block 0. tftp-hpa
    reads (stop-and-wait), atftp writes (windowsize 16)."""
    content = lab.put("large.bin", lab.random_bytes(LARGE))
    lab.run_client(tftp_hpa("get", lab.port, "large.bin", "large.bin"), LARGE_CLIENT_S)
    lab.same(tr("large.bin (32 MiB) as tftp-hpa received it"), lab.client_file("large.bin"),
             content)
    (lab.client_dir / "large.bin").write_bytes(content)
    lab.run_client(atftp("put", lab.port, "large-up.bin", "large.bin", [("windowsize", "16")]),
                   LARGE_CLIENT_S)
    up = lab.root / "large-up.bin"
    lab.same(tr("root/large-up.bin (32 MiB) written through atftp"),
             up.read_bytes() if up.exists() else b"", content)
    lab.expect_lines([line("RRQ", "large.bin", LARGE), line("WRQ", "large-up.bin", LARGE)],
                     tr("after 32 MiB each way"))


def scenario_new_tid(lab: Lab) -> None:
    """Each transfer answers from a port of its own (RFC 1350 section 4): not the server's,
    and not another transfer's."""
    lab.put("two-blocks.bin", lab.random_bytes(700))
    first, second = lab.peer(), lab.peer()
    first.request(RRQ, b"two-blocks.bin")
    one = first.expect_data(1, 512)
    second.request(RRQ, b"two-blocks.bin")
    two = second.expect_data(1, 512)
    if one.source == lab.port or two.source == lab.port:
        raise Failure(tr("DATA 1 came from the server's own port {port}: each transfer must "
                         "run from a new socket, bound to a port of its own (its transfer ID)")
                      .format(port=lab.port))
    if one.source == two.source:
        raise Failure(tr("two transfers at once both answered from port {port}: each needs a "
                         "socket of its own").format(port=one.source))
    for peer in (first, second):
        peer.send_raw(ack(1))
        peer.expect_data(2, 188)
        peer.send_raw(ack(2))
    lab.expect_lines([line("RRQ", "two-blocks.bin", 700, first.port),
                      line("RRQ", "two-blocks.bin", 700, second.port)], tr("after two reads"))


CONCURRENT = 16


def scenario_concurrent(lab: Lab) -> None:
    """16 reads held open at once by the peer (each gets DATA 1 before any is acknowledged),
    then 8 tftp-hpa reads and 8 writes side by side."""
    content = lab.put("shared.bin", lab.random_bytes(1300))
    peers = [lab.peer() for _ in range(CONCURRENT)]
    for peer in peers:
        peer.request(RRQ, b"shared.bin")
    for number, peer in enumerate(peers, 1):
        packet = peer.recv()
        if packet is None or packet.opcode != DATA or packet.number != 1:
            raise Failure(tr("16 read requests at once: request {number} got {packet} while the "
                             "other transfers waited for their ACKs — transfers must run side by "
                             "side (poll(2)), not one after the other").format(
                number=number, packet=packet or tr("nothing")))
    for peer in peers:
        received = peer.received[0].payload
        for block in (1, 2):
            peer.send_raw(ack(block))
            received += peer.expect_data(block + 1).payload
        peer.send_raw(ack(3))
        lab.same(tr("shared.bin as the peer on port {port} received it").format(port=peer.port),
                 received, content)
        peer.close()
    patterns = [line("RRQ", "shared.bin", 1300, peer.port) for peer in peers]
    files = {}
    running = []
    for number in range(CONCURRENT // 2):
        name = f"up-{number}.bin"
        files[name] = lab.random_bytes(20_000 + number)
        (lab.client_dir / name).write_bytes(files[name])
        running.append(lab.start_client(tftp_hpa("put", lab.port, name, name)))
        running.append(lab.start_client(tftp_hpa("get", lab.port, "shared.bin",
                                                 f"down-{number}.bin")))
        patterns += [line("WRQ", name, len(files[name])), line("RRQ", "shared.bin", 1300)]
    for program in running:
        lab.finish_client(program)
    for number in range(CONCURRENT // 2):
        lab.same(tr("shared.bin read by tftp-hpa #{number} of 8 at once").format(
                 number=number + 1),
                 lab.client_file(f"down-{number}.bin"), content)
        name = f"up-{number}.bin"
        up = lab.root / name
        lab.same(tr("root/{name} written by tftp-hpa #{number} of 8 at once").format(
                 name=name, number=number + 1),
                 up.read_bytes() if up.exists() else b"", files[name])
    lab.expect_lines(patterns, tr("after 32 transfers"))


ALL_OPTIONS = [("blksize", "1024"), ("timeout", "3"), ("tsize", "0"), ("windowsize", "4")]


def check_oack(packet: Packet, expected: dict[str, str], why: str) -> None:
    if packet.options != expected:
        raise Failure(tr("{why}: the OACK should carry exactly {expected}; it carries {got}")
                      .format(why=why, expected=" ".join(f"{k}={v}" for k, v in expected.items()),
                              got=" ".join(f"{k}={v}" for k, v in packet.options.items())
                              or tr("nothing")))


def scenario_oack(lab: Lab) -> None:
    """An OACK that matches the request: each option accepted with its value, unknown and
    out-of-range ones left out, no OACK when nothing is accepted; an RRQ's DATA waits for
    ACK 0; a WRQ's OACK stands for ACK 0."""
    lab.put("opts.bin", lab.random_bytes(3000))
    patterns = []
    peer = lab.peer()
    peer.request(RRQ, b"opts.bin", options=ALL_OPTIONS)
    check_oack(peer.expect_oack(), {"blksize": "1024", "timeout": "3", "tsize": "3000",
                                    "windowsize": "4"},
               tr("RRQ with blksize, timeout, tsize and windowsize"))
    peer.expect_quiet(tr("after an OACK the server must wait for the client's ACK 0 before "
                         "DATA 1 (RFC 2347)"))
    peer.send_raw(ack(0))
    for block in (1, 2):
        peer.expect_data(block, 1024)
    peer.expect_data(3, 952)
    peer.send_raw(ack(3))
    patterns.append(line("RRQ", "opts.bin", 3000, peer.port))
    peer.close()
    cases = [
        ([("BlkSize", "700")], {"blksize": "700"}, tr("option names are case-insensitive")),
        ([("timeout", "7")], {"timeout": "7"}, tr("timeout alone")),
        ([("windowsize", "2")], {"windowsize": "2"}, tr("windowsize alone")),
        ([("tsize", "0")], {"tsize": "3000"}, tr("tsize alone")),
        ([("foo", "1"), ("blksize", "600"), ("bar", "x")], {"blksize": "600"},
         tr("unknown options are ignored (RFC 2347)")),
        ([("blksize", "7"), ("timeout", "0"), ("windowsize", "0"), ("timeout", "256"),
          ("blksize", "65465"), ("windowsize", "65536"), ("tsize", "x"), ("blksize", "800")],
         {"blksize": "800"}, tr("values out of range are ignored; the first valid one counts")),
    ]
    for options, expected, why in cases:
        peer = lab.peer()
        peer.request(RRQ, b"opts.bin", options=options)
        check_oack(peer.expect_oack(), expected, why)
        peer.send_raw(error(8, b"enough"))   # RFC 2347: the client may refuse an OACK
        patterns.append(failed_line("RRQ", peer.port))
        peer.close()
    peer = lab.peer()
    peer.request(RRQ, b"opts.bin", options=[("foo", "1"), ("blksize", "2")])
    packet = peer.expect(tr("DATA 1 (no option was acceptable: no OACK)"))
    if packet.opcode != DATA or packet.number != 1 or len(packet.payload) != 512:
        raise Failure(tr("a request whose options are all unknown or out of range is served as "
                         "if it had none: DATA 1 of 512 bytes, no OACK; got {packet}").format(
            packet=packet))
    peer.send_raw(error(0, b"enough"))
    patterns.append(failed_line("RRQ", peer.port))
    peer.close()
    peer = lab.peer()
    peer.request(WRQ, b"opts-up.bin", options=[("blksize", "100"), ("tsize", "150")])
    check_oack(peer.expect_oack(), {"blksize": "100", "tsize": "150"},
               tr("WRQ with blksize 100 and tsize 150"))
    upload = lab.random_bytes(150)
    peer.send_raw(data(1, upload[:100]))
    peer.expect_ack(1)
    peer.send_raw(data(2, upload[100:]))
    peer.expect_ack(2)
    patterns.append(line("WRQ", "opts-up.bin", 150, peer.port))
    lab.expect_lines(patterns, tr("after the option requests"))
    lab.same(tr("root/opts-up.bin (blksize 100)"), (lab.root / "opts-up.bin").read_bytes(),
             upload)


def scenario_blksize(lab: Lab) -> None:
    """DATA follows the negotiated block size: 8, 1428, 65464; a WRQ takes blocks of it."""
    patterns = []
    for size, length in ((8, 20), (1428, 5000), (65464, 100_000)):
        name = f"blk-{size}.bin"
        content = lab.put(name, lab.random_bytes(length))
        peer = lab.peer()
        got = peer.read_file(name.encode(), blksize=size, options=[("blksize", str(size))])
        sizes = [len(p.payload) for p in peer.received if p.opcode == DATA]
        expected = [len(b) for b in blocks_of(content, size)]
        if sizes != expected:
            raise Failure(tr("RRQ with blksize {size} of a {length}-byte file: DATA sizes "
                             "should be {expected}, got {sizes}").format(
                size=size, length=length, expected=expected, sizes=sizes))
        lab.same(tr("{name} read with blksize {size}").format(name=name, size=size), got,
                 content)
        patterns.append(line("RRQ", name, length, peer.port))
        peer.close()
    peer = lab.peer()
    upload = lab.random_bytes(1428 * 2 + 100)
    peer.write_file(b"blk-up.bin", upload, blksize=1428, options=[("blksize", "1428")])
    patterns.append(line("WRQ", "blk-up.bin", len(upload), peer.port))
    lab.expect_lines(patterns, tr("after reads and a write with blksize"))
    lab.same(tr("root/blk-up.bin, written in blocks of 1428"),
             (lab.root / "blk-up.bin").read_bytes(), upload)


def scenario_windowsize(lab: Lab) -> None:
    """RFC 7440: WINDOW blocks before an ACK; an ACK inside the window resends from there; as
    the receiver, one ACK per WINDOW blocks, one at a gap, one for the final block."""
    content = lab.put("window.bin", lab.random_bytes(512 * 9 + 100))   # 10 blocks
    peer = lab.peer()
    peer.request(RRQ, b"window.bin", options=[("windowsize", "4")])
    check_oack(peer.expect_oack(), {"windowsize": "4"}, tr("RRQ with windowsize 4"))
    peer.send_raw(ack(0))
    for block in range(1, 5):
        peer.expect_data(block, 512)
    peer.expect_quiet(tr("with windowsize 4, the server sends 4 blocks, then waits for an ACK"))
    peer.send_raw(ack(4))
    for block in range(5, 9):
        peer.expect_data(block, 512)
    peer.expect_quiet(tr("4 more blocks, then it waits"))
    peer.send_raw(ack(6))   # blocks 7 and 8 "lost": send again from 7 (RFC 7440)
    for block in range(7, 11):
        peer.expect_data(block, 512 if block < 10 else 100)
    peer.send_raw(ack(10))
    reader_port = peer.port
    peer.close()
    upload = lab.random_bytes(512 * 8 + 10)   # blocks 1..8 full, 9 short
    parts = blocks_of(upload, 512)
    peer = lab.peer()
    peer.request(WRQ, b"window-up.bin", options=[("windowsize", "4")])
    check_oack(peer.expect_oack(), {"windowsize": "4"}, tr("WRQ with windowsize 4"))
    for block in range(1, 5):
        peer.send_raw(data(block, parts[block - 1]))
        if block < 4:
            peer.expect_quiet(tr("as the receiver with windowsize 4, the server acknowledges "
                                 "every 4th block, not block {block}").format(block=block),
                              QUIET_S / 2)
    peer.expect_ack(4)
    for block in (5, 6, 8):      # 7 "lost": the server says where its data stops, once
        peer.send_raw(data(block, parts[block - 1]))
    peer.expect_ack(6)
    for block in (7, 8, 9):
        peer.send_raw(data(block, parts[block - 1]))
    peer.expect_ack(9)
    lab.expect_lines([line("RRQ", "window.bin", len(content), reader_port),
                      line("WRQ", "window-up.bin", len(upload), peer.port)],
                     tr("after a windowed read and write"))
    lab.same(tr("root/window-up.bin (windowsize 4, block 7 late)"),
             (lab.root / "window-up.bin").read_bytes(), upload)


def scenario_timeout(lab: Lab) -> None:
    """The timeout option sets how long the server waits before it sends again."""
    lab.put("slow.bin", lab.random_bytes(600))
    # 3 s: far from the 1 s default, with room for a loaded machine's delays either way
    for seconds, low, high in ((3, 2.5, 4.5),):
        peer = lab.peer()
        peer.request(RRQ, b"slow.bin", options=[("timeout", str(seconds))])
        check_oack(peer.expect_oack(), {"timeout": str(seconds)},
                   tr("RRQ with timeout {seconds}").format(seconds=seconds))
        peer.send_raw(ack(0))
        first = peer.expect_data(1, 512)
        again = peer.expect_data(1, 512, wait_s=high + 1)   # not acknowledged: it comes again
        waited = again.time - first.time
        if not slow(low) <= waited <= slow(high):
            raise Failure(tr("with timeout {seconds}, DATA 1 should come again after about "
                             "{seconds} s without an ACK; it came after {waited} s").format(
                seconds=seconds, waited=f"{waited:.2f}"))
        peer.send_raw(ack(1))
        peer.expect_data(2, 88)
        peer.send_raw(ack(2))
        peer.close()


def scenario_tsize(lab: Lab) -> None:
    """tsize: an RRQ learns the file's size; a WRQ's size is confirmed."""
    content = lab.put("sized.bin", lab.random_bytes(12_345))
    peer = lab.peer()
    got = peer.read_file(b"sized.bin", options=[("tsize", "0")])
    check_oack(next(p for p in peer.received if p.opcode == OACK), {"tsize": "12345"},
               tr("RRQ with tsize 0"))
    lab.same("sized.bin", got, content)
    peer.close()
    peer = lab.peer()
    upload = lab.random_bytes(700)
    peer.request(WRQ, b"sized-up.bin", options=[("tsize", "700")])
    check_oack(peer.expect_oack(), {"tsize": "700"}, tr("WRQ with tsize 700"))
    peer.send_raw(data(1, upload[:512]))
    peer.expect_ack(1)
    peer.send_raw(data(2, upload[512:]))
    peer.expect_ack(2)
    lab.expect_lines([line("RRQ", "sized.bin", len(content)),
                      line("WRQ", "sized-up.bin", 700, peer.port)],
                     tr("after tsize transfers"))


def scenario_clients(lab: Lab) -> None:
    """atftp with blksize 1428, windowsize 16 and tsize, and curl, both ways."""
    patterns = []
    for name, size in (("c-small.bin", 100_000), ("c-big.bin", 3_000_000)):
        content = lab.put(name, lab.random_bytes(size))
        options = [("blksize", "1428"), ("windowsize", "16"), ("tsize", "0")]
        lab.run_client(atftp("get", lab.port, name, f"atftp-{name}", options))
        lab.same(tr("{name} read by atftp (blksize 1428, windowsize 16, tsize)").format(
                 name=name),
                 lab.client_file(f"atftp-{name}"), content)
        lab.run_client(atftp("put", lab.port, f"atftp-up-{name}", f"atftp-{name}",
                             [("blksize", "1428"), ("windowsize", "16")]))
        up = lab.root / f"atftp-up-{name}"
        lab.same(tr("root/{name} written by atftp (blksize 1428, windowsize 16)").format(
                 name=f"atftp-up-{name}"),
                 up.read_bytes() if up.exists() else b"", content)
        lab.run_client(["curl", "--silent", "--show-error", "--tftp-blksize", "1024",
                        "--output", f"curl-{name}", f"tftp://{LOCAL}:{lab.port}/{name}"])
        lab.same(tr("{name} read by curl (blksize 1024)").format(name=name),
                 lab.client_file(f"curl-{name}"), content)
        lab.run_client(["curl", "--silent", "--show-error", "--upload-file", f"curl-{name}",
                        f"tftp://{LOCAL}:{lab.port}/curl-up-{name}"])
        up = lab.root / f"curl-up-{name}"
        lab.same(tr("root/{name} written by curl").format(name=f"curl-up-{name}"),
                 up.read_bytes() if up.exists() else b"", content)
        patterns += [line("RRQ", name, size), line("WRQ", f"atftp-up-{name}", size),
                     line("RRQ", name, size), line("WRQ", f"curl-up-{name}", size)]
    lab.expect_lines(patterns, tr("after atftp and curl"))


def scenario_errors(lab: Lab) -> None:
    """Error 1 for a missing file, 6 for a WRQ of an existing one, 4 for packets that make no
    sense, on the server's port and inside a transfer; the server goes on."""
    original = lab.put("exists.bin", lab.random_bytes(100))
    lab.put("fine.bin", lab.random_bytes(1000))
    patterns = []
    peer = lab.peer()
    peer.request(RRQ, b"missing.bin")
    peer.expect_error([1], tr("RRQ of a file that does not exist"))
    patterns.append(line("RRQ", "missing.bin", None, peer.port))
    peer.request(WRQ, b"exists.bin")
    peer.expect_error([6], tr("WRQ of a file that exists"))
    patterns.append(line("WRQ", "exists.bin", None, peer.port))
    for raw, why in ((b"\x00\x09hello\x00", tr("an unknown opcode (9) on the server's port")),
                     (b"\x00\x01fine.bin\x00octet", tr("an RRQ whose mode has no NUL at its end")),
                     (b"\x00\x01fine.bin", tr("an RRQ without a mode")),
                     (b"\x00\x01fine.bin\x00bogus\x00", tr("an RRQ of an unknown mode")),
                     (b"\x01", tr("a datagram of one byte")),
                     (ack(1), tr("an ACK on the server's port, where only requests belong"))):
        peer.send_raw(raw, lab.port)
        peer.expect_error([4], why)
        lab.alive()
    peer.close()
    peer = lab.peer()
    peer.request(RRQ, b"fine.bin")
    peer.expect_data(1, 512)
    peer.send_raw(b"\x00\x0a\x00\x01", shown=tr("opcode 10 (unknown) inside the transfer"))
    peer.expect_error([4], tr("an unknown opcode from the client inside a transfer"))
    peer.send_raw(ack(1))
    peer.expect_quiet(tr("after ERROR 4 the transfer is over: nothing more is sent"))
    patterns.append(line("RRQ", "fine.bin", None, peer.port))
    peer.close()
    peer = lab.peer()
    content = peer.read_file(b"fine.bin")
    lab.same(tr("fine.bin, read after the errors"), content,
             (lab.root / "fine.bin").read_bytes())
    patterns.append(line("RRQ", "fine.bin", 1000, peer.port))
    lab.same(tr("root/exists.bin after a refused WRQ"), (lab.root / "exists.bin").read_bytes(),
             original)
    lab.expect_lines(patterns, tr("after the errors"))


def scenario_stranger(lab: Lab) -> None:
    """A packet from a stranger (another port) gets ERROR 5, sent to it alone; the transfer
    goes on, unharmed, for a read and for a write."""
    content = lab.put("target.bin", lab.random_bytes(1300))
    peer, stranger = lab.peer(), lab.peer()
    stranger.name = tr("stranger {port}").format(port=stranger.port)
    peer.request(RRQ, b"target.bin")
    received = peer.expect_data(1, 512).payload
    assert peer.tid is not None
    stranger.send_raw(ack(1), peer.tid)
    stranger.expect_error([5], tr("a stranger's ACK sent to a transfer's port"))
    stranger.send_raw(error(0, b"go away"), peer.tid)
    peer.expect_quiet(tr("a stranger's packets must not move the transfer on: no DATA 2 "
                         "before the client's own ACK 1"))
    peer.send_raw(ack(1))
    received += peer.expect_data(2, 512).payload
    peer.send_raw(ack(2))
    received += peer.expect_data(3, 276).payload
    peer.send_raw(ack(3))
    lab.same(tr("target.bin, read while a stranger interfered"), received, content)
    upload = lab.random_bytes(800)
    writer = lab.peer()
    writer.request(WRQ, b"stranger-up.bin")
    writer.expect_ack(0)
    assert writer.tid is not None
    stranger.send_raw(data(1, b"X" * 512), writer.tid)
    stranger.expect_error([5], tr("a stranger's DATA sent to a write's port"))
    writer.send_raw(data(1, upload[:512]))
    writer.expect_ack(1)
    writer.send_raw(data(2, upload[512:]))
    writer.expect_ack(2)
    lab.expect_lines([line("RRQ", "target.bin", 1300, peer.port),
                      line("WRQ", "stranger-up.bin", 800, writer.port)],
                     tr("after two transfers a stranger interfered with"))
    lab.same(tr("root/stranger-up.bin (a stranger sent DATA 1 too)"),
             (lab.root / "stranger-up.bin").read_bytes(), upload)


def scenario_retransmit(lab: Lab) -> None:
    """A DATA that is not acknowledged comes again; an ACK the client did not get comes
    again; a repeated DATA is acknowledged again but written once."""
    content = lab.put("resend.bin", lab.random_bytes(700))
    peer = lab.peer()
    peer.request(RRQ, b"resend.bin")
    peer.expect_data(1, 512)          # "lost": no ACK
    peer.expect_data(1, 512, wait_s=DEFAULT_TIMEOUT_S * 3)
    peer.send_raw(ack(1))
    received = content[:512] + peer.expect_data(2, 188).payload
    peer.send_raw(ack(2))
    lab.same(tr("resend.bin after a lost DATA 1"), received, content)
    upload = lab.random_bytes(600)
    writer = lab.peer()
    writer.request(WRQ, b"resend-up.bin")
    writer.expect_ack(0)              # "lost": no DATA 1
    writer.expect_ack(0, wait_s=DEFAULT_TIMEOUT_S * 3)
    writer.send_raw(data(1, upload[:512]))
    writer.expect_ack(1)
    writer.send_raw(data(1, upload[:512]))   # as if ACK 1 had been lost
    writer.expect_ack(1)
    writer.send_raw(data(2, upload[512:]))
    writer.expect_ack(2)
    lab.expect_lines([line("RRQ", "resend.bin", 700, peer.port),
                      line("WRQ", "resend-up.bin", 600, writer.port)],
                     tr("after transfers with losses"))
    lab.same(tr("root/resend-up.bin (DATA 1 sent twice, to be written once)"),
             (lab.root / "resend-up.bin").read_bytes(), upload)


def scenario_sorcerer(lab: Lab) -> None:
    """Every ACK sent twice: each DATA must still come once (RFC 1123 4.2.3.1), with a window
    of 1 and with windowsize 4."""
    content = lab.put("apprentice.bin", lab.random_bytes(512 * 5 + 7))   # 6 blocks
    peer = lab.peer()
    peer.request(RRQ, b"apprentice.bin")
    for block in range(1, 7):
        next_data(peer, block)
        peer.send_raw(ack(block))
        peer.send_raw(ack(block))     # a duplicate, as a delayed ACK would be
    peer.expect_quiet(tr("after the last ACK"), QUIET_S * 2)
    counts = count_data(peer.received, prompt_only=True)
    if any(n != 1 for n in counts.values()) or len(counts) != 6:
        raise Failure(tr("each ACK was sent twice; each DATA should still come once (a "
                         "duplicate ACK must not be answered: the Sorcerer's Apprentice bug); "
                         "DATA received per block: {counts}").format(
            counts=dict(sorted(counts.items()))))
    peer.close()
    lab.put("apprentice8.bin", lab.random_bytes(512 * 7 + 3))   # 8 blocks
    peer = lab.peer()
    peer.request(RRQ, b"apprentice8.bin", options=[("windowsize", "4")])
    peer.expect_oack()
    peer.send_raw(ack(0))
    peer.send_raw(ack(0))
    for block in range(1, 5):
        next_data(peer, block)
    peer.send_raw(ack(4))
    peer.send_raw(ack(4))
    for block in range(5, 9):
        next_data(peer, block)
    peer.send_raw(ack(6))             # 7 and 8 "lost": sent again once...
    peer.send_raw(ack(6))             # ...not twice
    next_data(peer, 7)
    next_data(peer, 8)
    peer.send_raw(ack(8))
    peer.send_raw(ack(8))
    peer.expect_quiet(tr("after the last ACK"), QUIET_S * 2)
    counts = count_data(peer.received, prompt_only=True)
    expected = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 8: 2}
    if counts != expected:
        raise Failure(tr("windowsize 4, every ACK sent twice (ACK 6 asking for 7 and 8 again): "
                         "DATA per block should be {expected}, got {counts}").format(
            expected=expected, counts=dict(sorted(counts.items()))))
    lab.expect_lines([line("RRQ", "apprentice.bin", len(content)),
                      line("RRQ", "apprentice8.bin", 512 * 7 + 3)], tr("after two reads"))


PROMPT_S = 0.5   # a copy of a DATA this soon after the last one answers a packet, not a timer
EXTRA_MAX = 50   # copies of earlier blocks skipped while waiting for the next one


def next_data(peer: Peer, block: int) -> Packet:
    """DATA `block`, skipping copies of blocks already received (they are counted after)."""
    for _ in range(EXTRA_MAX):
        packet = peer.expect(f"DATA {block}")
        if packet.opcode == DATA and packet.number == block:
            return packet
        if packet.opcode != DATA or packet.number > block:
            raise Failure(tr("expected {what}, got {packet}").format(what=f"DATA {block}",
                                                                     packet=packet))
    raise Failure(tr("expected DATA {block}; {count} copies of earlier blocks came instead")
                  .format(block=block, count=EXTRA_MAX))


def count_data(packets: list[Packet], prompt_only: bool = False) -> dict[int, int]:
    """DATA packets received, per block number. With `prompt_only`, a copy that comes a
    timeout after the previous one (the server's timer, on a loaded machine) is not counted:
    only copies that answer a packet at once, as the Sorcerer's Apprentice's do."""
    counts: dict[int, int] = {}
    last: dict[int, float] = {}
    for packet in packets:
        if packet.opcode != DATA:
            continue
        number = packet.number
        if not (prompt_only and number in last and packet.time - last[number] > PROMPT_S):
            counts[number] = counts.get(number, 0) + 1
        last[number] = packet.time
    return counts


def scenario_abandon(lab: Lab) -> None:
    """A request and then silence: DATA 1 sent 5 times, then the transfer is abandoned. A write
    abandoned half-way leaves no file under its name."""
    lab.put("ghost.bin", lab.random_bytes(2000))
    reader, writer = lab.peer(), lab.peer()
    reader.request(RRQ, b"ghost.bin")
    writer.request(WRQ, b"half.bin")
    writer.expect_ack(0)
    writer.send_raw(data(1, lab.random_bytes(512)))
    writer.expect_ack(1)
    start = time.monotonic()
    while reader.recv(DEFAULT_TIMEOUT_S * 3) is not None:
        pass
    silent_after = time.monotonic() - start
    sends = count_data(reader.received).get(1, 0)
    if not MAX_TRIES <= sends <= MAX_TRIES + 1:
        raise Failure(tr("a client that never answers: DATA 1 should be sent {tries} times "
                         "(retransmitted every second), then the transfer abandoned; it came "
                         "{sends} times in {seconds} s").format(
            tries=MAX_TRIES, sends=sends, seconds=f"{silent_after:.1f}"))
    lab.expect_lines([line("RRQ", "ghost.bin", None, reader.port),
                      line("WRQ", "half.bin", None, writer.port)],
                     tr("after a read and a write whose clients went silent"))
    if (lab.root / "half.bin").exists():
        raise Failure(tr("a write abandoned after one block left root/half.bin: a write that "
                         "fails or is abandoned must leave no file under its name (write to a "
                         "temporary name, link it to its name once complete)"))
    writer.send_raw(data(2, b"late"))   # after the end: nobody is there
    reader.close()
    writer.close()


def attack_names() -> list[tuple[bytes, tuple[int, ...], str]]:
    """Names that try to leave ROOT, the error codes each may get, and what each is."""
    return [
        (b"../secret.txt", (2,), tr("'..'")),
        (b"sub/../../secret.txt", (2,), tr("'..' after a folder")),
        (b"sub/../sub/../../secret.txt", (2,), tr("'..' twice")),
        (b"/etc/passwd", (2,), tr("an absolute path")),
        (b"//etc/passwd", (2,), tr("'//'")),
        (b"escape", (2,), tr("a symbolic link in ROOT to a file outside it")),
        (b"escape-abs", (2,), tr("a symbolic link in ROOT to an absolute path outside it")),
        (b"up/secret.txt", (2,), tr("a symbolic link in ROOT to the folder above it")),
        (b"sub/back/secret.txt", (2,), tr("a symbolic link deeper in ROOT to a folder outside")),
        (b"../" * 21_800 + b"secret.txt", (2,), tr("a 64 KiB name made of '../'")),
        (b"a" * 65_000, (0, 1, 2), tr("a 64 KiB name")),
    ]


def write_attacks(lab: Lab) -> list[tuple[bytes, tuple[int, ...], str]]:
    """Write requests for names outside ROOT (planted.txt must appear nowhere), and through
    the links of make_traps()."""
    planted = str(lab.work / "planted.txt").encode()
    return [
        (b"../planted.txt", (2,), tr("'..'")),
        (b"sub/../../planted.txt", (2,), tr("'..' after a folder")),
        (planted, (2,), tr("an absolute path")),
        (b"/" + planted, (2,), tr("'//'")),
        (b"escape", (2,), tr("a symbolic link in ROOT to a file outside it (secret.txt)")),
        (b"escape-abs", (2,), tr("a symbolic link in ROOT to an absolute path outside it")),
        (b"up/planted.txt", (2,), tr("a path through a symbolic link to the folder above ROOT")),
        (b"sub/back/planted.txt", (2,), tr("a path through a symbolic link deeper in ROOT")),
        (b"../" * 21_800 + b"planted.txt", (2,), tr("a 64 KiB name made of '../'")),
        (b"a" * 65_000, (0, 1, 2), tr("a 64 KiB name")),
    ]


def make_traps(lab: Lab) -> None:
    (lab.root / "sub").mkdir(exist_ok=True)
    os.chmod(lab.root / "sub", 0o777)
    for link, target in (("escape", "../secret.txt"), ("escape-abs", str(lab.work / "secret.txt")),
                         ("up", ".."), ("sub/back", "../..")):
        path = lab.root / link
        if not path.is_symlink():
            path.symlink_to(target)


def outside_root(lab: Lab) -> dict[str, str]:
    """What is in WORK outside ROOT and the clients' folder, with each file's checksum."""
    found = {}
    for path in sorted(lab.work.rglob("*")):
        relative = path.relative_to(lab.work)
        if relative.parts[0] in ("root", "client") or path.is_symlink():
            continue
        found[str(relative)] = sha(path.read_bytes()) if path.is_file() else "folder"
    return found


def scenario_path_read(lab: Lab) -> None:
    """RRQs of names that lead out of ROOT: '..', absolute paths, '//', symbolic links out,
    a NUL inside the name, 64 KiB names. Error 2 (access violation), never a byte of what is
    outside; the server stays up."""
    make_traps(lab)
    lab.put("inside.txt", b"inside ROOT\n")
    patterns = []
    for name, codes, what in attack_names():
        peer = lab.peer()
        peer.request(RRQ, name)
        packet = peer.expect(tr("an answer to an RRQ of {what}").format(what=what))
        if packet.opcode == DATA and SECRET[:20] in packet.payload:
            raise Failure(tr("an RRQ of {what} ({name}) was answered with the contents of "
                             "secret.txt, a file outside ROOT").format(what=what,
                                                                       name=repr(name[:40])))
        if packet.opcode != ERROR or packet.number not in codes:
            raise Failure(tr("an RRQ of {what} ({name}) should get ERROR {codes} (the name leads "
                             "outside ROOT); got {packet}").format(
                what=what, name=repr(name[:40]), codes=error_codes(codes), packet=packet))
        patterns.append(failed_line("RRQ", peer.port))
        peer.close()
        lab.alive()
    for name, what in ((b"inside.txt\x00../secret.txt", tr("a NUL inside the name")),
                       (b"../secret.txt\x00inside.txt", tr("a NUL inside the name, '..' first")),
                       (b"inside.txt\x00octet\x00../secret.txt",
                        tr("a NUL, a mode, then '..' as an option"))):
        peer = lab.peer()
        peer.send_raw(struct.pack("!H", RRQ) + name + b"\x00octet\x00", lab.port,
                      shown=f"RRQ {name!r} octet ({what})")
        packet = peer.expect(tr("an answer to an RRQ with {what}").format(what=what))
        if SECRET[:20] in packet.payload:
            raise Failure(tr("an RRQ with {what} ({name}) was answered with the contents of "
                             "secret.txt, a file outside ROOT").format(what=what, name=repr(name)))
        if packet.opcode == DATA:
            patterns.append(line("RRQ", "inside.txt", None, peer.port))
            peer.send_raw(error(0, b"enough"))
        else:
            if packet.opcode != ERROR:
                raise Failure(tr("an RRQ with {what} ({name}) got {packet}").format(
                    what=what, name=repr(name), packet=packet))
            if packet.source != lab.port:
                patterns.append(failed_line("RRQ", peer.port))
        peer.close()
        lab.alive()
    peer = lab.peer()
    got = peer.read_file(b"inside.txt")
    lab.same(tr("inside.txt, read after the attacks (the server must stay up)"), got,
             b"inside ROOT\n")
    patterns.append(line("RRQ", "inside.txt", len(got), peer.port))
    lab.expect_lines(patterns, tr("after the attacks"))


def scenario_path_write(lab: Lab) -> None:
    """WRQs of the same names: nothing outside ROOT is created or changed, nothing in it
    through a link; the server stays up."""
    make_traps(lab)
    before = outside_root(lab)
    patterns = []
    for name, codes, what in write_attacks(lab):
        peer = lab.peer()
        peer.request(WRQ, name)
        packet = peer.expect(tr("an answer to a WRQ of {what}").format(what=what))
        if packet.opcode == ACK:
            peer.send_raw(data(1, b"PLANTED BY A WRITE\n"))
            peer.recv()
            raise Failure(tr("a WRQ of {what} ({name}) was accepted (ACK 0): the name leads "
                             "outside ROOT, and must get ERROR 2").format(what=what,
                                                                          name=repr(name[:40])))
        if packet.opcode != ERROR or packet.number not in codes:
            raise Failure(tr("a WRQ of {what} ({name}) should get ERROR {codes}; got {packet}")
                          .format(what=what, name=repr(name[:40]), codes=error_codes(codes),
                                  packet=packet))
        patterns.append(failed_line("WRQ", peer.port))
        peer.close()
        lab.alive()
    for name, what in ((b"fine.txt\x00../planted.txt", tr("a NUL inside the name")),
                       (b"../planted.txt\x00fine.txt", tr("a NUL inside the name, '..' first"))):
        peer = lab.peer()
        peer.send_raw(struct.pack("!H", WRQ) + name + b"\x00octet\x00", lab.port,
                      shown=f"WRQ {name!r} octet ({what})")
        packet = peer.expect(tr("an answer to a WRQ with {what}").format(what=what))
        if packet.opcode == ACK:
            peer.send_raw(data(1, b"PLANTED BY A WRITE\n"))
            peer.recv()
            patterns.append(line("WRQ", "fine.txt", len(b"PLANTED BY A WRITE\n"), peer.port))
        elif packet.opcode != ERROR:
            raise Failure(tr("a WRQ with {what} ({name}) got {packet}").format(
                what=what, name=repr(name), packet=packet))
        elif packet.source != lab.port:
            patterns.append(failed_line("WRQ", peer.port))
        peer.close()
        lab.alive()
    after = outside_root(lab)
    if after != before or (lab.work / "secret.txt").read_bytes() != SECRET:
        changed = sorted(set(after.items()) ^ set(before.items()))
        raise Failure(tr("write requests changed what is outside ROOT: {changed}").format(
            changed=changed))
    peer = lab.peer()
    inside = b"written inside ROOT\n"
    peer.write_file(b"inside-up.txt", inside)
    patterns.append(line("WRQ", "inside-up.txt", len(inside), peer.port))
    lab.same(tr("root/inside-up.txt, written after the attacks (the server must stay up)"),
             (lab.root / "inside-up.txt").read_bytes(), inside)
    lab.expect_lines(patterns, tr("after the attacks"))


def scenario_memory(lab: Lab) -> None:
    """Transfers of every kind, some left half-way, then SIGTERM in their middle: the memory
    check (Valgrind or the sanitizers) must find nothing, and the server exit 0."""
    make_traps(lab)
    content = lab.put("mem.bin", lab.random_bytes(3000))
    lab.put("text.txt", NETASCII_TEXT)
    peer = lab.peer()
    lab.same("mem.bin", peer.read_file(b"mem.bin", blksize=700, options=[("blksize", "700"),
                                                                         ("tsize", "0")]), content)
    peer = lab.peer()
    peer.read_file(b"text.txt", blksize=8, mode=b"netascii", options=[("blksize", "8")])
    peer = lab.peer()
    peer.write_file(b"mem-up.txt", netascii(NETASCII_TEXT), blksize=8, mode=b"netascii",
                    options=[("blksize", "8")])
    for name in (b"../secret.txt", b"escape", b"a" * 65_000, b"missing"):
        peer = lab.peer()
        peer.request(RRQ, name)
        peer.expect(tr("an answer"))
    peer = lab.peer()
    for raw in (b"\x00\x09", b"\x00\x01x", b"\x00\x02x\x00octet\x00blksize"):
        peer.send_raw(raw, lab.port)
        peer.expect("ERROR 4")
    stalled_read, stalled_write = lab.peer(), lab.peer()
    stalled_read.request(RRQ, b"mem.bin", options=[("windowsize", "2")])
    stalled_read.expect_oack()
    stalled_read.send_raw(ack(0))
    stalled_read.expect_data(1)
    stalled_write.request(WRQ, b"mem-half.bin")
    stalled_write.expect_ack(0)
    stalled_write.send_raw(data(1, b"z" * 512))
    stalled_write.expect_ack(1)
    lab.alive()
    status = lab.stop_server()
    lines = lab.server_lines()
    if status != "exit 0" or lines[-1:] != ["TFTP server stopped."]:
        raise Failure(tr("stopped by SIGTERM in the middle of two transfers, the server should "
                         "print 'TFTP server stopped.' and exit 0; it ended with {status}, its "
                         "last line {line}").format(
            status=status, line=repr(lines[-1]) if lines else tr("none")))
    if (lab.root / "mem-half.bin").exists():
        raise Failure(tr("a write interrupted by SIGTERM left root/mem-half.bin: an unfinished "
                         "write must leave no file under its name"))


SCENARIOS: dict[str, Callable[[Lab], None]] = {
    "start-stop": scenario_start_stop, "read": scenario_read, "write": scenario_write,
    "netascii": scenario_netascii, "large": scenario_large, "new-tid": scenario_new_tid,
    "concurrent": scenario_concurrent, "oack": scenario_oack, "blksize": scenario_blksize,
    "windowsize": scenario_windowsize, "timeout": scenario_timeout, "tsize": scenario_tsize,
    "clients": scenario_clients, "errors": scenario_errors, "stranger": scenario_stranger,
    "retransmit": scenario_retransmit, "sorcerer": scenario_sorcerer,
    "abandon": scenario_abandon, "path-read": scenario_path_read,
    "path-write": scenario_path_write, "valgrind": scenario_memory,
    "sanitizers": scenario_memory,
}


# --- running one scenario --------------------------------------------------------------------

def run(lab: Lab, scenario: Callable[[Lab], None]) -> str:
    lab.prepare()
    try:
        lab.start_server()
        lab.expect_banner()
        scenario(lab)
        result = "ok"
    except Failure as failure:
        result = str(failure)
    except session.SessionError as failure:
        result = str(failure)
    finally:
        if lab.server is not None:
            lab.stop_server()
        for program in [lab.server, *lab.programs]:
            if program is not None:
                program.finish()
    lab.note(tr("scenario: {result}").format(result=result.splitlines()[0]))
    write_memcheck(lab)
    (lab.out / "transcript").write_text("\n".join(lab.transcript.lines) + "\n")
    return result


def write_memcheck(lab: Lab) -> None:
    if lab.valgrind:
        log = lab.out / "server.valgrind"
        findings = session.valgrind_findings(log.read_text(errors="replace")) \
            if log.exists() else [tr("Valgrind wrote no report")]
    elif lab.sanitizers:
        stderr = lab.out / "server.stderr"
        findings = session.sanitizer_findings(stderr.read_text(errors="replace")) \
            if stderr.exists() else []
    else:
        return
    (lab.out / "server.memcheck").write_text("\n".join(findings or ["clean"]) + "\n")


def main(argv: list[str] | None = None) -> int:
    global SLOWDOWN
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--out", type=Path, required=True, help="folder for the results")
    parser.add_argument("--server", required=True, help="the server program to test")
    parser.add_argument("--work", type=Path, required=True, help="the server's working folder")
    parser.add_argument("--valgrind", action="store_true", help="run the server under Valgrind")
    parser.add_argument("--sanitizers", action="store_true",
                        help="the server is a sanitizer build: read its reports")
    parser.add_argument("--seed", type=int, default=1, help="seed of the test files' bytes")
    args = parser.parse_args(argv)
    if args.valgrind:
        SLOWDOWN = session.VALGRIND_SLOWDOWN
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))   # Bats' timeout: still clean up
    lab = Lab(args)
    result = run(lab, SCENARIOS[args.scenario])
    (args.out / "scenario.result").write_text(result + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
