#!/usr/bin/python3
"""A scripted UDP peer for the file-transfer labs' tests: exact datagrams, exactly recorded.

    udppeer.py send PORT DATAGRAM... [--replies]
        sends each DATAGRAM to 127.0.0.1:PORT, in order; with --replies, waits up to
        REPLY_WAIT_S after each one for an answer and prints it ("reply <datagram>" or
        "no reply"). DATAGRAM is text with Python escapes: 'DATA\\x00\\x00\\x00\\x01abc';
        '' is the empty datagram.
    udppeer.py recv PORT [--bind ADDRESS] [--save FILE]
        binds ADDRESS:PORT (default 127.0.0.1) and prints one line per datagram received
        ("datagram N bytes") until an empty one ("end mark", exit 0) or IDLE_S of silence
        ("silence", exit 1); with --save, writes what the datagrams held to FILE, each as it
        arrives.

Datagrams are printed with the same escapes, so a test compares plain lines.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

REPLY_WAIT_S = 2.0     # as long as the contract lets a UDP server take to answer
IDLE_S = 3.0
DATAGRAM_MAX = 65535


def decode(text: str) -> bytes:
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def show(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in data)


def send(port: int, datagrams: list[str], replies: bool) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(REPLY_WAIT_S)
        for text in datagrams:
            sock.sendto(decode(text), ("127.0.0.1", port))
            if not replies:
                continue
            try:
                print(f"reply {show(sock.recv(DATAGRAM_MAX))}", flush=True)
            except TimeoutError:
                print("no reply", flush=True)
    return 0


def receive(port: int, address: str, save: Path | None) -> int:
    # Each datagram is saved as it arrives: a session that stops this peer before its silence
    # has run out (a client without an end mark, a loaded machine) still finds every byte.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, \
            open(save if save is not None else os.devnull, "wb") as saved:
        sock.bind((address, port))
        sock.settimeout(IDLE_S)
        while True:
            try:
                data = sock.recv(DATAGRAM_MAX)
            except TimeoutError:
                print("silence", flush=True)
                return 1
            if not data:
                print("end mark", flush=True)
                return 0
            saved.write(data)
            saved.flush()
            print(f"datagram {len(data)} bytes", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sender = commands.add_parser("send")
    sender.add_argument("port", type=int)
    sender.add_argument("datagrams", nargs="*")
    sender.add_argument("--replies", action="store_true")
    receiver = commands.add_parser("recv")
    receiver.add_argument("port", type=int)
    receiver.add_argument("--bind", default="127.0.0.1", help="the address to receive on")
    receiver.add_argument("--save", type=Path, default=None, help="write the data here")
    args = parser.parse_args(argv)
    if args.command == "send":
        return send(args.port, args.datagrams, args.replies)
    return receive(args.port, args.bind, args.save)


if __name__ == "__main__":
    sys.exit(main())
