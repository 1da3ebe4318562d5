/*
 * Lab 09 — a TFTP server (RFC 1350, with RFCs 2347, 2348, 2349 and 7440).
 * Read labs/09-tftp-server/README.md first: it gives the order of the steps, which go from
 * tftp.h (A-C) and rootpath.h (D-G) to this file (1-9), and netascii.h (H-J) last.
 *
 *   server [PORT [ROOT]]          PORT 6969, ROOT "." by default
 *
 * Serve the files under ROOT to any TFTP client: read (RRQ) and write (WRQ) requests, modes
 * octet and netascii, the options blksize, timeout, tsize and windowsize. Each transfer gets
 * a socket of its own (a new port: its transfer ID), and all of them run side by side in one
 * thread: ppoll(2) waits on every socket at once, and on the earliest retransmission deadline.
 * Run until SIGINT or SIGTERM.
 *
 * stdout: "TFTP server on port PORT, serving ROOT." once listening; one line per transfer,
 * "RRQ NAME from ADDRESS: N bytes" or "... failed: REASON"; "TFTP server stopped." at the end.
 * Errors: perror-style on stderr, exit 1.
 */
#define _GNU_SOURCE   /* ppoll(2) */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "deadline.h"
#include "netascii.h"
#include "rootpath.h"
#include "tftp.h"

#define DEFAULT_TFTP_PORT 6969     /* TFTP's own port is 69, which only root may bind */
#define DEFAULT_ROOT "."
#define MAX_TRANSFERS 64           /* at once; the contract asks for at least 16 */
#define MAX_TRIES 5                /* sends of one packet before the transfer is abandoned */
#define DEFAULT_TIMEOUT_S 1        /* seconds before a retransmission, unless negotiated */
#define DATAGRAM_MAX 65536         /* larger than any UDP payload (65507 over IPv4) */

/*
 * A suggestion: what one transfer needs to remember between two datagrams. A table of
 * MAX_TRANSFERS of them, a slot being free when its socket is -1, is all the server's state
 * besides the listening socket and ROOT's descriptor. Change it as you like.
 */
struct transfer {
    int sock;                    /* its own socket, bound to port 0: the transfer's ID */
    struct sockaddr_in peer;     /* the client's address and port: the client's ID */
    int writing;                 /* WRQ or RRQ */
    int netascii;
    size_t blksize;              /* 512 unless negotiated */
    unsigned window;             /* 1 unless negotiated */
    int timeout_s;
    int file_fd;
    int64_t deadline_us;         /* when to retransmit (monotonic_us(), deadline.h) */
    int tries;                   /* sends of the packet we wait an answer for */
    uint64_t bytes;              /* for the line at the end */
    /* RRQ: the blocks in flight, base .. next - 1, and the final block once it is known.
     * Count in 64 bits; only the wire's numbers wrap (block % 65536). */
    uint64_t base, next, last;
    /* WRQ: the next block to write, the folder, the temporary file and the final name. */
    uint64_t expected;
    int dir_fd;
    char temp[64];
};

/* server [PORT [ROOT]]: args.h checks PORT; ROOT is any text (opened in step 1). Given. */
static void parse_arguments(int argc, char **argv, uint16_t *port, const char **root)
{
    const char *synopsis = "[PORT [ROOT]]";

    *port = DEFAULT_TFTP_PORT;
    *root = DEFAULT_ROOT;
    if (argc > 3)
        usage_exit(argv[0], synopsis);
    if (argc > 1 && parse_port(argv[1], port) != 0)
        usage_exit(argv[0], synopsis);
    if (argc > 2)
        *root = argv[2];
}

int main(int argc, char **argv)
{
    const char *root;
    uint16_t port;

    parse_arguments(argc, argv, &port, &root);   /* given: keep it first */
    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): open ROOT with open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC): every file
     *               is then opened relative to that descriptor (rootpath.h). Missing, or not
     *               a folder: "server: cannot serve ROOT: <strerror>" on stderr, exit 1. Then
     *               a UDP socket with SO_REUSEADDR, bound to 0.0.0.0:port, and the line
     *               "TFTP server on port PORT, serving ROOT.". See open(2), socket(7), bind(2). */
    /* TODO(step 2): stop cleanly. A SIGINT/SIGTERM handler (sigaction(2)) only sets a
     *               `volatile sig_atomic_t` flag. Block both signals with sigprocmask(2) before
     *               the loop, and wait with ppoll(2) given the old mask: a signal then arrives
     *               only inside ppoll(), which returns EINTR, never in the gap between
     *               checking the flag and waiting. Ignore SIGXFSZ (a write past `ulimit -f`
     *               then fails with EFBIG instead of killing the server). At the end: every
     *               transfer ended (an unfinished upload's temporary file removed), every
     *               descriptor closed, "TFTP server stopped.", exit 0. */
    /* TODO(step 3): requests. recvfrom(2) on the listening socket (MSG_DONTWAIT: read until
     *               EAGAIN), tftp_parse_request(). Not a request: ERROR 4 from the listening
     *               socket — but never answer an ERROR packet with one. */
    /* TODO(step 4): a transfer per request: a new socket bound to 0.0.0.0 port 0 (the kernel
     *               picks a port: the new TID, RFC 1350 section 4), every packet of the
     *               transfer sent from it. Open the file with rootpath.h; when that fails,
     *               send ERROR 1, 2 or 6 from the new socket, print the line and free the slot.
     *               Print names safely: a name is a stranger's bytes (escape what is not
     *               printable ASCII, cut what is very long). */
    /* TODO(step 5): RRQ, one block at a time: DATA 1, 2, ... of blksize bytes read with
     *               pread(2), the last one shorter (0 bytes if the file is a multiple of
     *               blksize). A new ACK moves on; a timeout sends again; MAX_TRIES sends
     *               without an answer abandon the transfer. A duplicate ACK is ignored: answering
     *               it is the Sorcerer's Apprentice bug (RFC 1123 section 4.2.3.1). Block
     *               numbers go 65535, 0, 1, ... (compare them modulo 65536). */
    /* TODO(step 6): WRQ: answer ACK 0, write each DATA n that comes in order to a temporary
     *               file in the target's folder (openat(2) with O_CREAT | O_EXCL), answer
     *               ACK n, and ACK n again when DATA n comes twice. After the final (short)
     *               block: close(2), linkat(2) the temporary file to its name (EEXIST: error
     *               6), unlinkat(2) the temporary name. Stay MAX_TRIES timeouts more to ACK a
     *               repeated final block (RFC 1350 section 6). Abandoned or failed: unlink it. */
    /* TODO(step 7): one loop for everything: ppoll() on the listening socket and every
     *               transfer's socket, with the earliest deadline as its timeout. A datagram
     *               from anyone but the transfer's client (compare address and port): ERROR 5
     *               to that stranger alone, the transfer untouched — unless it is an ERROR,
     *               which is never answered. A packet that makes no sense: ERROR 4, the
     *               transfer ends. An ERROR from the client ends it, unanswered. */
    /* TODO(step 8): options (RFC 2347): when tftp_parse_request() accepted any, answer with an
     *               OACK of those (tftp_oack_add) instead of DATA 1 or ACK 0; an RRQ's client
     *               then sends ACK 0. tsize: the file's size for an RRQ in octet mode (fstat),
     *               the client's figure for a WRQ. */
    /* TODO(step 9): windowsize (RFC 7440): send up to `window` blocks before waiting; an ACK
     *               of a block inside the window means the ones after it were lost: send again
     *               from there. As the receiver, ACK every `window` blocks, the final one, and
     *               once when a block from the future shows a gap. */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c (port %u, ROOT %s)\n",
            (unsigned)port, root);
    return EXIT_FAILURE;
}
