#!/usr/bin/python3
"""relaylog.py — what a UDP relay log (labs/lib/relay.c --log) says about a lab 06/08 transfer.

    relaylog.py window LOG --max W
        The most blocks the client had unacknowledged, counted at the relay; exit 1 above W.
    relaylog.py stalls LOG --max-ms MS
        For each DATA the relay dropped on purpose (--drop-nth), how long until that block
        came through again; exit 1 when the median is above MS.

Each line of the log is one datagram as the relay received it:
    <seconds> <c2s|s2c> <size> "<first 16 bytes, C-escaped>"[...] <fate>
The first 8 bytes are the lab's header: a 4-byte tag, then the block number (big-endian).

Counting the window at the relay: when DATA s passes, the client has sent block s, and has
heard at most the ACKs the relay let through before it. If the highest of those is a, blocks
a+1 .. s are unacknowledged at the client (at least), so s - a <= WINDOW for a correct client.
An ACK the relay holds back (reordered, delayed) is counted as let through at once: that can
only make the count smaller, never accuse a correct client.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

# Messages speak the grader's language (SOCKLAB_LANG, else the locale): grader/i18n.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from grader.i18n import _ as tr, setup_for_harness  # noqa: E402

LINE = re.compile(r'^(\d+\.\d+) (c2s|s2c) (\d+) "((?:[^"\\]|\\.)*)"(?:\.\.\.)? (.*)$')
ESCAPES = {"n": 0x0A, "t": 0x09, "r": 0x0D, '"': 0x22, "\\": 0x5C}
HEADER_LEN = 8


@dataclass(frozen=True)
class Datagram:
    line: int          # 1-based, in the log
    time: float        # seconds since the relay started
    direction: str     # c2s or s2c
    tag: bytes
    number: int | None  # the header's number; None when the datagram is shorter
    fate: str          # "sent", "dropped", "dropped (drop-nth DATA:300:c2s)", "dup", ...
    text: str          # the log line, for messages

    @property
    def dropped(self) -> bool:
        return self.fate.startswith("dropped")


def unescape(text: str) -> bytes:
    """The relay's C-like quoting back to bytes."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] != "\\":
            out.append(ord(text[i]))
            i += 1
        elif text[i + 1] == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(ESCAPES[text[i + 1]])
            i += 2
    return bytes(out)


def read_log(path: str) -> list[Datagram]:
    datagrams = []
    with open(path, encoding="latin-1") as log:
        for number, line in enumerate(log, 1):
            match = LINE.match(line.rstrip("\n"))
            if match is None:
                continue   # a line cut short when the relay was killed
            time, direction, _size, quoted, fate = match.groups()
            head = unescape(quoted)
            block = int.from_bytes(head[4:8], "big") if len(head) >= HEADER_LEN else None
            datagrams.append(Datagram(number, float(time), direction, head[:4], block, fate,
                                      line.rstrip("\n")))
    return datagrams


def window(datagrams: list[Datagram], limit: int) -> int:
    acked = -1            # the highest ACK let through so far; -1: none yet
    worst = None
    for d in datagrams:
        if d.number is None:
            continue
        if d.direction == "s2c" and d.tag == b"ACK " and not d.dropped:
            acked = max(acked, d.number)
        elif d.direction == "c2s" and d.tag == b"DATA":
            if worst is None or d.number - acked > worst[0]:
                worst = (d.number - acked, d, acked)
    if worst is None:
        print(tr("no DATA passed the relay"))
        return 1
    count, datagram, acked = worst
    where = tr("before any ACK") if acked < 0 else tr("after ACK {number} had passed").format(
        number=acked)
    print(tr("at most {count} blocks unacknowledged (WINDOW {limit}): the worst was block "
             "{number}, sent {where} (log line {line}: {text})").format(
        count=count, limit=limit, number=datagram.number, where=where, line=datagram.line,
        text=datagram.text))
    return 0 if count <= limit else 1


def stalls(datagrams: list[Datagram], limit_ms: float) -> int:
    waits = []
    for i, d in enumerate(datagrams):
        if not (d.direction == "c2s" and d.tag == b"DATA" and "drop-nth" in d.fate):
            continue
        again = next((later for later in datagrams[i + 1:] if later.direction == "c2s"
                      and later.tag == b"DATA" and later.number == d.number), None)
        if again is None:
            print(tr("block {number}, dropped at {time:.3f} s, never came through again").format(
                number=d.number, time=d.time))
            return 1
        dups = [later for later in datagrams[i + 1:] if later.time <= again.time
                and later.direction == "s2c" and later.tag == b"ACK "
                and later.number == (d.number or 0) - 1]
        waits.append(again.time - d.time)
        print(tr("block {number}: dropped at {dropped:.3f} s, sent again at {again:.3f} s "
                 "({later:.0f} ms later, after {count} duplicate ACKs of block {acked})").format(
            number=d.number, dropped=d.time, again=again.time,
            later=(again.time - d.time) * 1000, count=len(dups), acked=(d.number or 0) - 1))
    if not waits:
        print(tr("the relay dropped no DATA on purpose"))
        return 1
    median_ms = statistics.median(waits) * 1000
    print(tr("median wait: {wait:.0f} ms (at most {limit:.0f} ms expected)").format(
        wait=median_ms, limit=limit_ms))
    return 0 if median_ms <= limit_ms else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("window")
    check.add_argument("log")
    check.add_argument("--max", type=int, required=True)
    check = commands.add_parser("stalls")
    check.add_argument("log")
    check.add_argument("--max-ms", type=float, required=True)
    args = parser.parse_args(argv)
    setup_for_harness()
    datagrams = read_log(args.log)
    if args.command == "window":
        return window(datagrams, args.max)
    return stalls(datagrams, args.max_ms)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
