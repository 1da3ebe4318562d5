#!/usr/bin/python3
"""How much the network-fault relay (labs/lib/relay.c) costs: prints figures, asserts nothing.

    /usr/bin/python3 tests/bench/relay_bench.py [--round-trips N] [--seconds S]

Measures, on 127.0.0.1 with 1032-byte datagrams (lab 06's DATA size):
- UDP ping-pong round-trip time, direct and through the relay (with and without its log);
- datagrams per second through the relay, with a window of datagrams in flight, and the
  relay's own CPU time per datagram (from /proc/PID/schedstat): its capacity, Python aside;
- what that means for lab 06: 64 MiB stop-and-wait is 65536 round trips.
The echo server runs in a thread of this process, so Python's own cost is in every figure;
the relay's cost is the difference between the direct and relayed rows.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

RELAY_SOURCE = Path(__file__).resolve().parents[2] / "labs" / "lib" / "relay.c"
PAYLOAD = b"DATA" + bytes(1028)      # tag + seq + 1024 bytes of file
WINDOW = 32                          # datagrams in flight in the throughput test
TIMEOUT_S = 2.0
LAB06_ROUND_TRIPS = (64 << 20) // 1024


def build(folder: Path) -> Path:
    binary = folder / "relay"
    compiler = shutil.which("gcc") or "cc"
    subprocess.run([compiler, "-std=c11", "-O2", "-o", str(binary), str(RELAY_SOURCE)],
                   check=True, timeout=60)
    return binary


class Echo:
    """A UDP server that sends every datagram back where it came from, until stopped."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                data, peer = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            self.sock.sendto(data, peer)

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


def start_relay(binary: Path, to_port: int, log: Path | None) -> tuple[subprocess.Popen[bytes],
                                                                        int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    argv = [str(binary), "--proto", "udp", "--listen", str(port), "--to", str(to_port)]
    if log is not None:
        argv += ["--log", str(log)]
    proc = subprocess.Popen(argv)
    end = time.monotonic() + 5
    while f":{port:04X} " not in Path("/proc/net/udp").read_text():
        if time.monotonic() > end:
            proc.kill()
            raise SystemExit("the relay did not bind its port")
        time.sleep(0.005)
    return proc, port


def ping_pong(port: int, round_trips: int) -> list[float]:
    """Round-trip times in µs, one datagram in flight at a time (stop-and-wait)."""
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT_S)
        client.connect(("127.0.0.1", port))
        for _ in range(200):                 # warm up: caches, the relay's learning
            client.send(PAYLOAD)
            client.recv(65536)
        for _ in range(round_trips):
            start = time.perf_counter_ns()
            client.send(PAYLOAD)
            client.recv(65536)
            times.append((time.perf_counter_ns() - start) / 1000)
    return times


def cpu_ns(pid: int) -> int:
    """CPU time the process has used so far, in ns (first field of /proc/PID/schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def windowed(port: int, seconds: float) -> tuple[float, int]:
    """Datagrams echoed per second with WINDOW of them in flight, and how many."""
    echoed = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.settimeout(TIMEOUT_S)
        client.connect(("127.0.0.1", port))
        for _ in range(WINDOW):
            client.send(PAYLOAD)
        start = time.monotonic()
        end = start + seconds
        while time.monotonic() < end:
            client.recv(65536)
            echoed += 1
            client.send(PAYLOAD)
        elapsed = time.monotonic() - start
        for _ in range(WINDOW):              # drain, so nothing is counted twice
            try:
                client.recv(65536)
            except TimeoutError:
                break
    return echoed / elapsed, echoed


def report(label: str, times: list[float]) -> float:
    median = statistics.median(times)
    p99 = sorted(times)[int(len(times) * 0.99)]
    print(f"  {label:<28} median {median:7.1f} µs   p99 {p99:7.1f} µs   "
          f"→ 64 MiB stop-and-wait ≈ {median * LAB06_ROUND_TRIPS / 1e6:5.1f} s")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--round-trips", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        binary = build(Path(folder))
        echo = Echo()
        try:
            print(f"UDP ping-pong, {len(PAYLOAD)}-byte datagrams, {args.round_trips} round trips:")
            direct = report("direct", ping_pong(echo.port, args.round_trips))
            for label, log in (("through the relay", None),
                               ("through the relay, --log", Path(folder) / "relay.log")):
                proc, port = start_relay(binary, echo.port, log)
                try:
                    relayed = report(label, ping_pong(port, args.round_trips))
                    print(f"  {'':<28} the relay adds {relayed - direct:6.1f} µs per round trip "
                          f"(two hops each way)")
                    before = cpu_ns(proc.pid)
                    rate, echoed = windowed(port, args.seconds)
                    per_datagram_us = (cpu_ns(proc.pid) - before) / 1000 / (2 * echoed)
                    print(f"  {'':<28} windowed ({WINDOW} in flight): {rate:8.0f} datagrams/s "
                          f"echoed = {2 * rate:8.0f} datagrams/s relayed")
                    print(f"  {'':<28} the relay's CPU: {per_datagram_us:5.2f} µs per datagram "
                          f"→ it alone could relay ≈ {1e6 / per_datagram_us:9.0f} datagrams/s")
                finally:
                    proc.terminate()
                    proc.wait(5)
            rate, _ = windowed(echo.port, args.seconds)
            print(f"direct, windowed ({WINDOW} in flight): {rate:8.0f} datagrams/s echoed")
        finally:
            echo.stop()


if __name__ == "__main__":
    main()
