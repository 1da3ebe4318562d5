"""labs/lib/sockdiag.py: which sockets are bound to a port. Its netlink answer (sock_diag) must
be /proc/net's answer, socket for socket, for TCP and UDP, IPv4 and IPv6; a connected or
merely bound TCP socket is no server's; without sock_diag, /proc/net answers."""

from __future__ import annotations

import os
import socket
import sys
from contextlib import ExitStack

import pytest

from conftest import KIT

sys.path.insert(0, str(KIT / "labs" / "lib"))
import sockdiag  # noqa: E402


def inode(sock: socket.socket) -> str:
    """The inode of `sock`, as /proc names it (socket:[INODE])."""
    return os.readlink(f"/proc/self/fd/{sock.fileno()}")[len("socket:["):-1]


def test_netlink_and_proc_net_agree_on_servers() -> None:
    with ExitStack() as stack:
        def opened(family: int, kind: int) -> socket.socket:
            return stack.enter_context(socket.socket(family, kind))

        listener = opened(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        listener6 = opened(socket.AF_INET6, socket.SOCK_STREAM)
        listener6.bind(("::1", port))
        listener6.listen()
        datagram = opened(socket.AF_INET, socket.SOCK_DGRAM)
        datagram.bind(("127.0.0.1", port))
        datagram6 = opened(socket.AF_INET6, socket.SOCK_DGRAM)
        datagram6.bind(("::1", port))
        # No server's: a client connected to the listener (its accepted twin has the port too,
        # but is established), and a UDP socket bound to the port and connected (a client's).
        client = opened(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(("127.0.0.1", port))
        stack.enter_context(listener.accept()[0])
        connected = opened(socket.AF_INET, socket.SOCK_DGRAM)
        connected.bind(("127.0.0.2", port))
        connected.connect(("127.0.0.1", port))

        expected = {"tcp": {inode(listener), inode(listener6)},
                    "udp": {inode(datagram), inode(datagram6)}}
        for proto, inodes in expected.items():
            by_netlink = sockdiag.diag_dump(proto, port)
            by_proc = sockdiag.proc_net(proto, port)
            assert {bound.inode for bound in by_netlink} == inodes, proto
            assert sorted(by_netlink, key=str) == sorted(by_proc, key=str), proto
            assert {bound.uid for bound in by_netlink} == {os.getuid()}


def test_a_port_nobody_holds_has_no_sockets() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]   # bound, not listening: no TCP server's
        assert sockdiag.diag_dump("tcp", port) == []
        assert sockdiag.proc_net("tcp", port) == []


def test_without_sock_diag_proc_net_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(proto: str, port: int) -> list[sockdiag.Bound]:
        raise OSError("no sock_diag here")

    monkeypatch.setattr(sockdiag, "diag_dump", refused)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        found = sockdiag.bound_sockets("tcp", listener.getsockname()[1])
        assert [bound.inode for bound in found] == [inode(listener)]
