"""labs/lib/udppeer.py, the file-transfer labs' scripted receiver: it saves each datagram as it
arrives, so a session that stops it before its silence runs out (lab 05's [host] with a client
that sends no end mark, on a loaded machine) still finds every byte; an end mark ends it with
status 0."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import KIT, PYTHON

PEER = KIT / "labs" / "lib" / "udppeer.py"
DEADLINE_S = 10.0
POLL_S = 0.01


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bound(port: int) -> bool:
    """Whether a UDP socket is bound to `port` (the kernel's own table)."""
    lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    return any(int(line.split()[1].split(":")[1], 16) == port for line in lines)


def wait_for(condition: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {condition}"
        time.sleep(POLL_S)


@contextmanager
def receiver(port: int, save: Path) -> Iterator[subprocess.Popen[str]]:
    """udppeer.py recv on `port`, saving to `save`, bound when this yields; reaped after."""
    proc = subprocess.Popen([PYTHON, str(PEER), "recv", str(port), "--save", str(save)],
                            stdout=subprocess.PIPE, text=True)
    try:
        wait_for(f"udppeer.py recv bound to port {port}", lambda: bound(port))
        yield proc
    finally:
        proc.kill()
        proc.communicate(timeout=DEADLINE_S)


def send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, ("127.0.0.1", port))


def test_each_datagram_is_saved_as_it_arrives(tmp_path: Path) -> None:
    port, save = free_udp_port(), tmp_path / "peer.bin"
    with receiver(port, save) as proc:
        assert proc.stdout is not None
        send(port, b"first ", b"second")
        # each line is printed once its datagram is saved (a silent receiver ends the lines)
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert lines == ["datagram 6 bytes", "datagram 6 bytes"], lines
        assert save.exists() and save.read_bytes() == b"first second", \
            "udppeer.py had not saved the datagrams it had reported"
    # then stopped (SIGKILL) before its silence ran out: nothing is lost
    assert save.read_bytes() == b"first second"


def test_an_end_mark_ends_it_with_status_0(tmp_path: Path) -> None:
    port, save = free_udp_port(), tmp_path / "peer.bin"
    with receiver(port, save) as proc:
        send(port, b"abc", b"")
        out, _err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, out
    assert out.splitlines() == ["datagram 3 bytes", "end mark"]
    assert save.read_bytes() == b"abc"
