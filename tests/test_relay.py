"""The harness's network-fault relay (labs/lib/relay.c), tested with plain Python sockets.

Each test builds nothing itself: the module builds the relay once into a temporary folder, then
every test starts it between a Python "client" and a Python "server" on 127.0.0.1, always with
socket timeouts, and kills it in a `finally`. Waits are on conditions (the relay's log, a bound
port), never fixed sleeps, except where the point is that nothing arrives.
"""

from __future__ import annotations

import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

RELAY_SOURCE = Path(__file__).resolve().parent.parent / "labs" / "lib" / "relay.c"
IO_TIMEOUT_S = 5.0          # any socket call that takes longer means the relay is broken
START_TIMEOUT_S = 5.0       # how long the relay may take to bind its port
VALGRIND_SLOWDOWN = 6.0     # ... and how much longer everything may take under Valgrind
QUIET_S = 0.15              # how long "nothing arrives" is watched for
TCP_LISTEN = "0A"           # socket states in /proc/net/tcp (include/net/tcp_states.h)
UDP_UNCONNECTED = "07"


@pytest.fixture(scope="module")
def relay_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    assert compiler, "no C compiler"
    binary = tmp_path_factory.mktemp("relay") / "relay"
    subprocess.run([compiler, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-o",
                    str(binary), str(RELAY_SOURCE)], check=True, timeout=60)
    return binary


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = IO_TIMEOUT_S) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_bound(proto: str, port: int) -> bool:
    wanted = TCP_LISTEN if proto == "tcp" else UDP_UNCONNECTED
    for row in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
        cols = row.split()
        if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == wanted:
            return True
    return False


class Relay:
    """The relay, started and bound to its port (a free one), logging to `log`."""

    def __init__(self, binary: Path, proto: str, to_port: int, log: Path,
                 extra: list[str], wrapper: list[str]) -> None:
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        self.port = free_port(kind)
        self.log = log
        self.proc = subprocess.Popen(
            [*wrapper, str(binary), "--proto", proto, "--listen", str(self.port),
             "--to", str(to_port), "--log", str(log), *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        end = time.monotonic() + START_TIMEOUT_S * (VALGRIND_SLOWDOWN if wrapper else 1)
        while not is_bound(proto, self.port):
            assert self.proc.poll() is None, f"relay exited: {self.proc.communicate()}"
            assert time.monotonic() < end, "relay did not bind its port"
            time.sleep(0.002)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def fates(self) -> list[str]:
        """Each log line without its time stamp."""
        return [line.split(" ", 1)[1] for line in self.lines()]

    def wait_lines(self, count: int, direction: str | None = None) -> list[str]:
        def have() -> bool:
            return len([x for x in self.lines() if direction is None
                        or x.split()[1] == direction]) >= count
        wait_for(have, f"{count} log lines")
        return self.lines()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=IO_TIMEOUT_S)


@contextmanager
def relay(binary: Path, tmp_path: Path, proto: str, to_port: int, *extra: str,
          wrapper: list[str] | None = None) -> Iterator[Relay]:
    running = Relay(binary, proto, to_port, tmp_path / f"relay-{proto}.log", list(extra),
                    wrapper or [])
    try:
        yield running
    finally:
        running.stop()


Pair = tuple[socket.socket, socket.socket, Relay]   # (client, server, relay)


# --- TCP ------------------------------------------------------------------------------------

@contextmanager
def tcp_pair(binary: Path, tmp_path: Path, *extra: str,
             wrapper: list[str] | None = None) -> Iterator[Pair]:
    """(client, server, relay): a connection from a client to a server through the relay."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(IO_TIMEOUT_S)
        with relay(binary, tmp_path, "tcp", listener.getsockname()[1], *extra,
                   wrapper=wrapper) as running:
            client = socket.create_connection(("127.0.0.1", running.port),
                                              timeout=IO_TIMEOUT_S)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server, _ = listener.accept()
            server.settimeout(IO_TIMEOUT_S)
            try:
                yield client, server, running
            finally:
                client.close()
                server.close()


def recv_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def test_tcp_passes_a_mebibyte_each_way_intact(relay_bin: Path, tmp_path: Path) -> None:
    upload = random.Random(1).randbytes(1 << 20)
    download = random.Random(2).randbytes(1 << 20)
    received: list[bytes] = []
    with tcp_pair(relay_bin, tmp_path) as (client, server, running):
        def serve() -> None:
            received.append(recv_all(server))
            server.sendall(download)
            server.shutdown(socket.SHUT_WR)
        worker = threading.Thread(target=serve)
        worker.start()
        client.sendall(upload)
        client.shutdown(socket.SHUT_WR)
        got = recv_all(client)
        worker.join(IO_TIMEOUT_S)
        assert received == [upload]
        assert got == download
        assert running.proc.wait(IO_TIMEOUT_S) == 0


def test_tcp_split_delivers_one_write_as_many_segments(relay_bin: Path, tmp_path: Path) -> None:
    message = b"0123456789abcdefghi\n"
    with tcp_pair(relay_bin, tmp_path, "--split", "1") as (client, server, running):
        client.sendall(message)
        pieces = []
        while sum(map(len, pieces)) < len(message):
            pieces.append(server.recv(1024))
        assert b"".join(pieces) == message
        assert len(pieces) >= 10, pieces
        assert running.wait_lines(1)[0].endswith(" c2s 20 \"0123456789abcdef\"... split into 20")


def test_tcp_coalesce_joins_two_writes(relay_bin: Path, tmp_path: Path) -> None:
    with tcp_pair(relay_bin, tmp_path, "--coalesce", "300") as (client, server, running):
        client.sendall(b"first line\n")
        running.wait_lines(1)                    # the relay has read the first write alone
        client.sendall(b"second line\n")
        assert server.recv(1024) == b"first line\nsecond line\n"
        assert "sent (2 reads joined)" in running.lines()[-1]


def test_tcp_delay_holds_each_chunk(relay_bin: Path, tmp_path: Path) -> None:
    with tcp_pair(relay_bin, tmp_path, "--delay", "150") as (client, server, _):
        start = time.monotonic()
        client.sendall(b"late\n")
        assert server.recv(1024) == b"late\n"
        assert time.monotonic() - start >= 0.14


def test_tcp_half_close_propagates_both_ways(relay_bin: Path, tmp_path: Path) -> None:
    with tcp_pair(relay_bin, tmp_path) as (client, server, running):
        client.sendall(b"request")
        client.shutdown(socket.SHUT_WR)
        assert recv_all(server) == b"request"    # ends: the EOF was passed on
        server.sendall(b"answer after the client's EOF")
        server.shutdown(socket.SHUT_WR)
        assert recv_all(client) == b"answer after the client's EOF"
        assert running.proc.wait(IO_TIMEOUT_S) == 0
        assert [line.split()[1:] for line in running.lines() if "eof" in line] == \
            [["c2s", "0", '""', "eof"], ["s2c", "0", '""', "eof"]]


def test_tcp_reset_propagates_after_the_data_before_it(relay_bin: Path,
                                                       tmp_path: Path) -> None:
    with tcp_pair(relay_bin, tmp_path) as (client, server, running):
        server.sendall(b"last words")
        # SO_LINGER 0: close() sends RST, as a crashed peer with unread data would.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()
        assert client.recv(1024) == b"last words"
        with pytest.raises(ConnectionResetError):
            client.recv(1024)
        assert running.proc.wait(IO_TIMEOUT_S) == 0


def test_tcp_server_gone_is_seen_as_eof_then_reset(relay_bin: Path, tmp_path: Path) -> None:
    with tcp_pair(relay_bin, tmp_path) as (client, server, running):
        server.close()                           # the server exits without a word
        assert client.recv(1024) == b""          # EOF arrives through the relay
        with pytest.raises(OSError):             # writing on then meets the reset
            for _ in range(50):
                client.send(b"anyone there?")
                time.sleep(0.01)
        assert running.proc.wait(IO_TIMEOUT_S) == 0


@pytest.mark.parametrize("argv", [
    [], ["--proto", "tcp", "--listen", "1"], ["--proto", "sctp", "--listen", "1", "--to", "2"],
    ["--proto", "tcp", "--listen", "0", "--to", "2"],
    ["--proto", "tcp", "--listen", "1", "--to", "2", "--drop", "0.5"],
    ["--proto", "udp", "--listen", "1", "--to", "2", "--split", "3"],
    ["--proto", "udp", "--listen", "1", "--to", "2", "--drop", "1.5"],
    ["--proto", "udp", "--listen", "1", "--to", "2", "--drop-nth", "TOOLONG:1"],
    ["--proto", "udp", "--listen", "1", "--to", "2", "--drop-nth", "DONE:0"],
    ["--proto", "udp", "--listen", "1", "--to", "2", "--c2s-only", "--s2c-only"],
    ["--proto", "udp", "--listen", "1", "--to", "2", "--bogus", "1"],
])
def test_bad_arguments_give_usage_and_status_2(relay_bin: Path, argv: list[str]) -> None:
    done = subprocess.run([str(relay_bin), *argv], capture_output=True, text=True,
                          timeout=IO_TIMEOUT_S)
    assert done.returncode == 2
    assert "usage: relay" in done.stderr


# --- UDP ------------------------------------------------------------------------------------

@contextmanager
def udp_pair(binary: Path, tmp_path: Path, *extra: str,
             wrapper: list[str] | None = None) -> Iterator[Pair]:
    """(client, server, relay): the client is connected to the relay; the server answers the
    address each datagram came from (the relay's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        server.bind(("127.0.0.1", 0))
        server.settimeout(IO_TIMEOUT_S)
        client.settimeout(IO_TIMEOUT_S)
        with relay(binary, tmp_path, "udp", server.getsockname()[1], *extra,
                   wrapper=wrapper) as running:
            client.connect(("127.0.0.1", running.port))
            yield client, server, running


def numbered(i: int) -> bytes:
    return b"DATA" + i.to_bytes(4, "big")


def nothing_waiting(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def send_numbered(client: socket.socket, count: int) -> None:
    for i in range(count):
        client.send(numbered(i))


def test_udp_drop_1_drops_everything(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--drop", "1") as (client, server, running):
        send_numbered(client, 20)
        lines = running.wait_lines(20)
        assert all(line.endswith(" dropped") for line in lines)
        time.sleep(QUIET_S)
        assert nothing_waiting(server)


def test_udp_drop_0_drops_nothing_and_answers_reach_the_client(relay_bin: Path,
                                                              tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--drop", "0") as (client, server, running):
        for i in range(20):
            client.send(numbered(i))
            data, relay_address = server.recvfrom(65536)
            assert data == numbered(i)
            server.sendto(b"ACK " + data[4:], relay_address)
            assert client.recv(65536) == b"ACK " + data[4:]
        assert all(line.endswith(" sent") for line in running.lines())


def test_udp_empty_and_maximal_datagrams_pass(relay_bin: Path, tmp_path: Path) -> None:
    big = random.Random(3).randbytes(65507)     # the largest UDP payload over IPv4
    with udp_pair(relay_bin, tmp_path) as (client, server, _):
        for payload in (b"", big, b"\x00DONE"):
            client.send(payload)
            assert server.recv(65536) == payload


@pytest.mark.skipif(int(Path("/proc/sys/net/core/rmem_max").read_text()) < (2 << 20),
                    reason="socket buffers are capped too small here for a burst")
def test_udp_burst_passes_without_loss(relay_bin: Path, tmp_path: Path) -> None:
    """Lab 05's client sends without waiting: the relay must not be where datagrams are lost."""
    count = 500
    with udp_pair(relay_bin, tmp_path) as (client, server, _):
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2 << 20)
        for i in range(count):
            client.send(numbered(i) + bytes(1020))
        got = [server.recv(65536)[:8] for _ in range(count)]
        assert got == [numbered(i) for i in range(count)]


def test_udp_drop_nth_drops_only_that_datagram(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--drop-nth", "DONE:1:s2c") as (client, server, running):
        answers = []
        for number, message in enumerate((b"DATA\x00", b"DONE\x01", b"DONE\x02"), 1):
            client.send(message)
            data, relay_address = server.recvfrom(65536)    # c2s DONE is not dropped
            assert data == message
            server.sendto(data, relay_address)              # echo
            running.wait_lines(number, "s2c")
            if message == b"DONE\x01":
                time.sleep(QUIET_S)
                assert nothing_waiting(client)
            else:
                answers.append(client.recv(65536))
        assert answers == [b"DATA\x00", b"DONE\x02"]
        dropped = [line for line in running.lines() if "dropped" in line]
        assert len(dropped) == 1
        assert dropped[0].split()[1:] == ["s2c", "5", '"DONE\\x01"', "dropped", "(drop-nth",
                                          "DONE:1:s2c)"]


def test_udp_drop_nth_counts_each_direction(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--drop-nth", "ACK :2", "--drop-nth", ":3:c2s") \
            as (client, server, running):
        for message in (b"ACK 1", b"ACK 2", b"ACK 3", b"x"):
            client.send(message)
        running.wait_lines(4)
        got = [server.recv(65536) for _ in range(2)]
        time.sleep(QUIET_S)
        assert nothing_waiting(server)
        assert got == [b"ACK 1", b"x"]          # the 2nd ACK and the 3rd datagram are gone


def test_udp_dup_with_a_fixed_seed(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--dup", "0.3", "--seed", "7") as (client, server, running):
        send_numbered(client, 40)
        lines = running.wait_lines(40)
        dups = sum(line.endswith(" dup") for line in lines)
        assert 0 < dups < 40
        got = [server.recv(65536) for _ in range(40 + dups)]
        assert sorted(set(got)) == [numbered(i) for i in range(40)]
        time.sleep(QUIET_S)
        assert nothing_waiting(server)


def test_udp_reorder_with_a_fixed_seed(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--reorder", "0.3", "--seed", "7") \
            as (client, server, running):
        send_numbered(client, 40)
        lines = running.wait_lines(40)
        assert 0 < sum(line.endswith(" reordered") for line in lines) < 40
        got = [server.recv(65536) for _ in range(40)]
        assert sorted(got) == [numbered(i) for i in range(40)]
        assert got != sorted(got)


def test_udp_delay(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--delay", "150") as (client, server, running):
        start = time.monotonic()
        client.send(b"slow")
        assert server.recv(65536) == b"slow"
        assert time.monotonic() - start >= 0.14
        assert running.lines()[0].endswith(" delayed")


def test_udp_faults_in_one_direction_only(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path, "--drop", "1", "--s2c-only") as (client, server, running):
        client.send(b"ping")
        data, relay_address = server.recvfrom(65536)
        assert data == b"ping"
        server.sendto(b"pong", relay_address)
        running.wait_lines(2)
        assert [line.split()[1] + " " + line.split()[-1] for line in running.lines()] == \
            ["c2s sent", "s2c dropped"]


def run_fates(binary: Path, tmp_path: Path, seed: str) -> list[str]:
    (tmp_path / "relay-udp.log").unlink(missing_ok=True)
    with udp_pair(binary, tmp_path, "--drop", "0.3", "--dup", "0.3", "--reorder", "0.3",
                  "--seed", seed) as (client, server, running):
        send_numbered(client, 60)
        running.wait_lines(60)
        return running.fates()


def test_udp_same_seed_same_fates(relay_bin: Path, tmp_path: Path) -> None:
    first = run_fates(relay_bin, tmp_path, "42")
    assert first == run_fates(relay_bin, tmp_path, "42")
    assert first != run_fates(relay_bin, tmp_path, "43")
    assert {fate.split(" ", 3)[3] for fate in first} >= {"sent", "dropped", "dup", "reordered"}


def test_udp_sigterm_exits_0_with_the_log_written(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path) as (client, server, running):
        client.send(b"one")
        assert server.recv(65536) == b"one"
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(IO_TIMEOUT_S) == 0
        assert len(running.lines()) == 1


def test_udp_relay_survives_an_absent_server(relay_bin: Path, tmp_path: Path) -> None:
    with udp_pair(relay_bin, tmp_path) as (client, server, running):
        port = server.getsockname()[1]
        server.close()                           # ICMP port unreachable comes back
        for _ in range(3):
            client.send(b"hello?")
        running.wait_lines(3)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
            again.bind(("127.0.0.1", port))
            again.settimeout(IO_TIMEOUT_S)
            client.send(b"now?")
            assert again.recv(65536) == b"now?"
        assert running.proc.poll() is None


VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=all", "--show-leak-kinds=all", "--track-fds=yes"]


def valgrind_tcp_closed(binary: Path, tmp_path: Path, log: Path) -> None:
    with tcp_pair(binary, tmp_path, "--split", "4", "--delay", "5",
                  wrapper=[*VALGRIND, f"--log-file={log}"]) as (client, server, running):
        client.sendall(b"hello through valgrind")
        client.shutdown(socket.SHUT_WR)
        assert recv_all(server) == b"hello through valgrind"
        server.close()
        assert recv_all(client) == b""
        assert running.proc.wait(IO_TIMEOUT_S * VALGRIND_SLOWDOWN) == 0, log.read_text()


def valgrind_tcp_reset(binary: Path, tmp_path: Path, log: Path) -> None:
    with tcp_pair(binary, tmp_path, "--delay", "200",
                  wrapper=[*VALGRIND, f"--log-file={log}"]) as (client, server, running):
        server.sendall(b"queued in the relay")
        running.wait_lines(1)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()
        assert client.recv(1024) == b"queued in the relay"
        with pytest.raises(ConnectionResetError):
            client.recv(1024)
        assert running.proc.wait(IO_TIMEOUT_S * VALGRIND_SLOWDOWN) == 0, log.read_text()


def valgrind_udp_stopped(binary: Path, tmp_path: Path, log: Path) -> None:
    with udp_pair(binary, tmp_path, "--delay", "1000", "--reorder", "1", "--dup", "0.5",
                  wrapper=[*VALGRIND, f"--log-file={log}"]) as (client, _, running):
        send_numbered(client, 5)
        running.wait_lines(5)
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(IO_TIMEOUT_S * VALGRIND_SLOWDOWN) == 0, log.read_text()


def valgrind_udp_held(binary: Path, tmp_path: Path, log: Path) -> None:
    """Stopped while reordered datagrams are (most likely: for REORDER_HOLD_MS) held back."""
    with udp_pair(binary, tmp_path, "--reorder", "1",
                  wrapper=[*VALGRIND, f"--log-file={log}"]) as (client, _, running):
        send_numbered(client, 3)
        running.wait_lines(3)
        running.proc.send_signal(signal.SIGTERM)
        assert running.proc.wait(IO_TIMEOUT_S * VALGRIND_SLOWDOWN) == 0, log.read_text()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_relay_is_valgrind_clean(relay_bin: Path, tmp_path: Path) -> None:
    """Both modes, each ending its own ways: TCP after both sides closed, and on a reset with
    data still queued; UDP on SIGTERM with datagrams still queued, delayed or held back.
    The three run at once: Valgrind's start-up is most of the time."""
    scenarios = [valgrind_tcp_closed, valgrind_tcp_reset, valgrind_udp_stopped,
                 valgrind_udp_held]
    logs = [tmp_path / f"{scenario.__name__}.valgrind" for scenario in scenarios]
    folders = [tmp_path / scenario.__name__ for scenario in scenarios]   # one relay log each
    for folder in folders:
        folder.mkdir()
    with ThreadPoolExecutor(len(scenarios)) as pool:
        futures = [pool.submit(scenario, relay_bin, folder, log)
                   for scenario, folder, log in zip(scenarios, folders, logs)]
        for future in futures:
            future.result()                      # re-raises a scenario's failure here
    for log in logs:
        report = log.read_text()
        assert "ERROR SUMMARY: 0 errors" in report, report
        lines = [line.split("== ", 1)[-1] for line in report.splitlines()]
        leaked = [line for line, after in zip(lines, lines[1:] + [""])
                  if line.startswith("Open ") and "<inherited from parent>" not in after]
        assert not leaked, report
