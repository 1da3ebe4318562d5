"""Which sockets are bound to a port: the kernel's sock_diag netlink interface (what ss(8) uses).

session.py asks this many times a second while it waits for a server to bind its port. Reading
/proc/net/tcp for the same answer makes the kernel walk its whole table of established
connections (262144 buckets on a 24 GiB machine: ~4 ms a read, a core's worth of polling), however
few sockets exist; sock_diag asked for listening sockets only walks the listening table.

    bound_sockets("tcp", 8080)  ->  [Bound(inode="123456", uid=1000), ...]

TCP sockets count when they listen; UDP sockets when they are bound and not connected (the
state a UDP server's socket is in), both IPv4 and IPv6. A kernel that offers no sock_diag (one
without the inet_diag modules) is read through /proc/net instead, with the same answer.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path

NETLINK_SOCK_DIAG = 4            # linux/netlink.h
SOCK_DIAG_BY_FAMILY = 20         # linux/sock_diag.h: the request's message type
NLM_F_REQUEST = 0x1              # linux/netlink.h: message flags
NLM_F_DUMP = 0x300               # NLM_F_ROOT | NLM_F_MATCH: every socket that matches
NLMSG_ERROR = 2
NLMSG_DONE = 3
SERVER_STATE = {"tcp": 10, "udp": 7}   # TCP_LISTEN; TCP_CLOSE, an unconnected UDP socket
                                        # (include/net/tcp_states.h)
RECV_BYTES = 1 << 16

NLMSGHDR = struct.Struct("=IHHII")          # len, type, flags, seq, pid
# inet_diag_req_v2: family, protocol, ext, pad, states, then inet_diag_sockid (sport, dport,
# src[4], dst[4], if, cookie[2]: all zero in a dump request).
DIAG_REQ = struct.Struct("=BBBBI48x")
# inet_diag_msg: family, state, timer, retrans, sockid (sport first, in network byte order; 48
# bytes in all), expires, rqueue, wqueue, uid, inode.
DIAG_MSG = struct.Struct("=BBBBH46xIIIII")
PROTOCOLS = {"tcp": socket.IPPROTO_TCP, "udp": socket.IPPROTO_UDP}


@dataclass(frozen=True)
class Bound:
    inode: str      # the socket's inode, as /proc/PID/fd/N's link "socket:[INODE]" names it
    uid: int        # the user that created it


def bound_sockets(proto: str, port: int) -> list[Bound]:
    """The sockets of `proto` ("tcp" or "udp") bound to `port` in the state a server's is in."""
    try:
        return diag_dump(proto, port)
    except OSError:
        return proc_net(proto, port)


def diag_dump(proto: str, port: int) -> list[Bound]:
    """bound_sockets, asked of sock_diag; OSError when the kernel offers none."""
    state = SERVER_STATE[proto]
    found = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as link:
        for family in (socket.AF_INET, socket.AF_INET6):
            request = DIAG_REQ.pack(family, PROTOCOLS[proto], 0, 0, 1 << state)
            header = NLMSGHDR.pack(NLMSGHDR.size + len(request), SOCK_DIAG_BY_FAMILY,
                                   NLM_F_REQUEST | NLM_F_DUMP, family, 0)
            link.sendall(header + request)
            found += [bound for bound in replies(link) if bound[0] == port]
    return [Bound(inode=str(inode), uid=uid) for _port, uid, inode in found]


def replies(link: socket.socket) -> list[tuple[int, int, int]]:
    """(port, uid, inode) of each socket in the dump's replies, read until NLMSG_DONE."""
    sockets = []
    while True:
        data = link.recv(RECV_BYTES)
        if not data:
            raise OSError("sock_diag: the kernel closed the dump early")
        offset = 0
        while offset + NLMSGHDR.size <= len(data):
            length, kind, _flags, _seq, _pid = NLMSGHDR.unpack_from(data, offset)
            if kind == NLMSG_DONE:
                return sockets
            if kind == NLMSG_ERROR:
                (errno,) = struct.unpack_from("=i", data, offset + NLMSGHDR.size)
                raise OSError(-errno, "sock_diag refused the request")
            if length < NLMSGHDR.size + DIAG_MSG.size:
                raise OSError("sock_diag: a reply shorter than inet_diag_msg")
            fields = DIAG_MSG.unpack_from(data, offset + NLMSGHDR.size)
            sockets.append((socket.ntohs(fields[4]), fields[8], fields[9]))   # sport, uid, inode
            offset += (length + 3) & ~3                         # NLMSG_ALIGN


def proc_net(proto: str, port: int) -> list[Bound]:
    """bound_sockets, read from /proc/net/PROTO and PROTO6 (slow for TCP: see above)."""
    wanted = f"{SERVER_STATE[proto]:02X}"
    found = []
    for table in (f"/proc/net/{proto}", f"/proc/net/{proto}6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()   # sl local rem st tx:rx tr:when retrnsmt uid timeout inode
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == wanted:
                found.append(Bound(inode=cols[9], uid=int(cols[7])))
    return found
