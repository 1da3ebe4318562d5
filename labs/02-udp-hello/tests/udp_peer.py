#!/usr/bin/python3
"""A stand-in UDP hello server for lab 02's tests, with tricks the reference server lacks.

    udp_peer.py PORT [--bind ADDRESS] [--strangers | --trickle]

Binds ADDRESS:PORT (default 127.0.0.1), receives one datagram, answers "Hello from server"
to its source, and reports on stdout what it received and from where. With --strangers, two
other sockets first send the client longer datagrams that are not the answer — one from
another port of the server's address, one from the server's port on another address — so a
client that does not check where a datagram comes from prints the wrong message, and one that
does not terminate what it received prints a tail of a stranger's message after the answer.
With --trickle, it never answers: another socket sends the client a stray datagram every
TRICKLE_EVERY_S for TRICKLE_FOR_S, so a client whose wait starts again on every datagram
waits far past its 2 s.
Exit status: 0 once the answer is sent (or the trickle is over), 1 if no datagram arrives in
time.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

RECEIVE_TIMEOUT_S = 5.0        # how long to wait for the client's datagram
DATAGRAM_MAX = 65535           # the largest UDP payload
REPLY = b"Hello from server"
OTHER_ADDRESS = {"127.0.0.1": "127.0.0.2"}   # the stranger's address beside the server's
STRANGER_PORT = b"Not the server: a stranger on another port of the server's address"
STRANGER_ADDRESS = b"Not the server: a stranger on the server's port at another address"
TRICKLE_EVERY_S = 0.25         # a stray datagram this often ...
TRICKLE_FOR_S = 8.0            # ... for this long: four times the client's 2 s


def udp_socket(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    return sock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--bind", default="127.0.0.1", help="the address to serve on")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--strangers", action="store_true",
                        help="send the client two stray datagrams before the answer")
    chosen.add_argument("--trickle", action="store_true",
                        help="never answer; send the client a stray datagram every "
                             f"{TRICKLE_EVERY_S:g} s instead")
    args = parser.parse_args()
    with udp_socket(args.bind, args.port) as server:
        server.settimeout(RECEIVE_TIMEOUT_S)
        try:
            data, client = server.recvfrom(DATAGRAM_MAX)
        except TimeoutError:
            print(f"udp_peer: no datagram within {RECEIVE_TIMEOUT_S:g} s", file=sys.stderr)
            return 1
        print(f"received {data.decode('utf-8', 'replace')!r} from {client[0]}:{client[1]}",
              flush=True)
        if args.trickle:
            with udp_socket(args.bind, 0) as stranger:
                for _ in range(int(TRICKLE_FOR_S / TRICKLE_EVERY_S)):
                    stranger.sendto(STRANGER_PORT, client)
                    time.sleep(TRICKLE_EVERY_S)   # the pace of the trickle, not a wait
            print("trickle over", flush=True)
            return 0
        if args.strangers:
            with udp_socket(args.bind, 0) as stranger:
                stranger.sendto(STRANGER_PORT, client)
            other = OTHER_ADDRESS.get(args.bind, "127.0.0.1")
            with udp_socket(other, args.port) as stranger:
                stranger.sendto(STRANGER_ADDRESS, client)
            print("sent two stray datagrams", flush=True)
        server.sendto(REPLY, client)
        print(f"sent {REPLY.decode()!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
