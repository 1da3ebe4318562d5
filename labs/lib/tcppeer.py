#!/usr/bin/python3
"""A scripted TCP client for the labs' tests: a message sent in pieces, with pauses between.

    tcppeer.py PORT TEXT [--host ADDRESS] [--piece N] [--pause-ms MS]

Connects to ADDRESS:PORT (default 127.0.0.1), sends TEXT (Python escapes allowed: '\\x00') N
bytes at a time (default 1) with MS milliseconds between pieces (default 20), so that the
server surely receives several segments, and a program that reads once sees only the first
one. Then it shuts down its sending side (the end of the message, as lab 01's contract says),
reads until the server closes, and prints what it received, as is, on stdout.
Exit status: 0 when the server closed the connection, 1 when it did not within IDLE_S.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

# Its messages speak the student's language: session.py gives the kit's own peers SOCKLAB_LANG.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from grader.i18n import _ as tr, setup_for_harness  # noqa: E402

setup_for_harness()

IDLE_S = 5.0            # how long the server may stay silent before the peer gives up
CHUNK = 65536


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("text")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--piece", type=int, default=1, help="bytes a piece")
    parser.add_argument("--pause-ms", type=float, default=20.0, help="pause between pieces")
    args = parser.parse_args(argv)
    message = args.text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    try:
        sock = socket.create_connection((args.host, args.port), timeout=IDLE_S)
    except OSError as error:
        print(tr("tcppeer: could not connect to {host}:{port}: {error}").format(
            host=args.host, port=args.port, error=error.strerror or error), file=sys.stderr)
        return 1
    with sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # a piece, a segment
        for start in range(0, len(message), args.piece):
            if start:
                time.sleep(args.pause_ms / 1000)   # pacing what we send, not a wait on a peer
            sock.sendall(message[start:start + args.piece])
        sock.shutdown(socket.SHUT_WR)
        received = bytearray()
        try:
            while chunk := sock.recv(CHUNK):
                received += chunk
        except TimeoutError:
            sys.stdout.buffer.write(received)
            print(tr("tcppeer: the server did not close within {seconds} s").format(
                seconds=f"{IDLE_S:g}"), file=sys.stderr)
            return 1
    sys.stdout.buffer.write(received)
    return 0


if __name__ == "__main__":
    sys.exit(main())
