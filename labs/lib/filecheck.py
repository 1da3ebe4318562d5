#!/usr/bin/python3
"""Test files for the file-transfer labs (05, 06): make them, and compare what arrived.

    filecheck.py make KIND PATH [KIND PATH...] [--seed N]
                                              write test files of these kinds:
        empty        0 bytes
        one-byte     1 byte
        block        exactly 1024 bytes (one full datagram)
        block-plus   1025 bytes (a full datagram and one byte more)
        text         about 5 KiB of lines of words, ending with a newline
        binary       about 4 KiB of random bytes with runs of NUL bytes
        done-block   3 blocks; the second begins with "DONE" and a 32-bit 3, exactly what
                     lab 06's DONE message looks like: data that must stay data
        random:SIZE  SIZE random bytes; SIZE may end in K or M (KiB, MiB)
    filecheck.py compare SENT RECEIVED        exit 0 when RECEIVED is SENT byte for byte;
        otherwise say how they differ (sizes, SHA-256, first differing offset and its block)
        and exit 1

Contents depend only on KIND and the seed, so a failure replays.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path

# Messages speak the grader's language (SOCKLAB_LANG, else the locale): grader/i18n.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from grader.i18n import _ as tr, setup_for_harness  # noqa: E402

BLOCK = 1024            # the labs' datagram payload, to say which block a difference is in
CHUNK = 1 << 20         # bytes compared at a time
TEXT_SIZE = 5000
BINARY_SIZE = 4000
WORDS = ("socket", "datagram", "bind", "sendto", "recvfrom", "port", "block", "loss",
         "network", "byte", "order", "file", "server", "client", "packet", "timeout")
UNITS = {"K": 1 << 10, "M": 1 << 20}


def make(kind: str, rng: random.Random) -> bytes:
    if kind == "empty":
        return b""
    if kind == "one-byte":
        return rng.randbytes(1)
    if kind == "block":
        return rng.randbytes(BLOCK)
    if kind == "block-plus":
        return rng.randbytes(BLOCK + 1)
    if kind == "text":
        lines = []
        size = 0
        while size < TEXT_SIZE:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) + "\n"
            lines.append(line)
            size += len(line)
        return "".join(lines).encode()
    if kind == "binary":
        data = bytearray(rng.randbytes(BINARY_SIZE))
        for _ in range(20):   # NUL runs, one of them right at a block boundary
            start = rng.randrange(BINARY_SIZE)
            data[start:start + rng.randint(1, 64)] = bytes(64)[:rng.randint(1, 64)]
        data[BLOCK - 2:BLOCK + 2] = bytes(4)
        data[0] = 0
        return bytes(data[:BINARY_SIZE])
    if kind == "done-block":
        second = b"DONE" + (3).to_bytes(4, "big") + rng.randbytes(BLOCK - 8)
        return rng.randbytes(BLOCK) + second + rng.randbytes(BLOCK // 2)
    if kind.startswith("random:"):
        text = kind.split(":", 1)[1]
        unit = UNITS.get(text[-1:].upper(), 1)
        return rng.randbytes(int(text.rstrip("kKmM")) * unit)
    raise SystemExit(f"filecheck: unknown kind {kind!r}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def first_difference(sent: Path, received: Path) -> int | None:
    """The offset of the first byte that differs, or where the shorter file ends."""
    offset = 0
    with open(sent, "rb") as a, open(received, "rb") as b:
        while True:
            x, y = a.read(CHUNK), b.read(CHUNK)
            if x != y:
                for i, (p, q) in enumerate(zip(x, y)):
                    if p != q:
                        return offset + i
                return offset + min(len(x), len(y))
            if not x:
                return None
            offset += len(x)


def blocks(size: int) -> str:
    count = (size + BLOCK - 1) // BLOCK
    text = (tr("{size} bytes, {count} block of {block}") if count == 1
            else tr("{size} bytes, {count} blocks of {block}"))
    return text.format(size=size, count=count, block=BLOCK)


def compare(sent: Path, received: Path) -> int:
    setup_for_harness()
    if not received.is_file():
        print(tr("the received file {name} does not exist (sent: {blocks})").format(
            name=received.name, blocks=blocks(sent.stat().st_size)))
        return 1
    if sha256(sent) == sha256(received):
        return 0
    size_sent, size_received = sent.stat().st_size, received.stat().st_size
    print(tr("{name} is not the file that was sent:").format(name=received.name))
    print("  " + tr("sent      {blocks}, SHA-256 {digest}...").format(
        blocks=blocks(size_sent), digest=sha256(sent)[:16]))
    print("  " + tr("received  {blocks}, SHA-256 {digest}...").format(
        blocks=blocks(size_received), digest=sha256(received)[:16]))
    if size_received < size_sent:
        lost = 100.0 * (size_sent - size_received) / size_sent
        # xgettext: no-python-format  (a brace format; "% o" is not a directive)
        print("  " + tr("{count} bytes missing ({share:.1f}% of the file)").format(
            count=size_sent - size_received, share=lost))
    elif size_received > size_sent:
        print("  " + tr("{count} bytes too many (a block written twice?)").format(
            count=size_received - size_sent))
    offset = first_difference(sent, received)
    if offset is not None:
        print("  " + tr("first difference at offset {offset}: block {block}, byte {byte} of "
                        "it").format(offset=offset, block=offset // BLOCK, byte=offset % BLOCK))
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    maker = commands.add_parser("make", help="write test files")
    maker.add_argument("pairs", nargs="+", metavar="KIND PATH")
    maker.add_argument("--seed", type=int, default=1)
    checker = commands.add_parser("compare", help="compare a received file with the sent one")
    checker.add_argument("sent", type=Path)
    checker.add_argument("received", type=Path)
    args = parser.parse_args(argv)
    if args.command == "make":
        if len(args.pairs) % 2 != 0:
            parser.error("make takes pairs: KIND PATH [KIND PATH...]")
        for kind, path in zip(args.pairs[::2], args.pairs[1::2]):
            rng = random.Random(f"{kind}/{args.seed}")
            Path(path).write_bytes(make(kind, rng))
        return 0
    return compare(args.sent, args.received)


if __name__ == "__main__":
    sys.exit(main())
