/*
 * Lab 08 — a sliding window over UDP, the server.
 * Read labs/08-udp-window/README.md first. Your lab 06 server is a good start: the socket,
 * the DONE answer and the linger are the same.
 *
 *   server [PORT [OUTPUT]]
 *
 * Receive numbered DATA blocks from a sender that keeps many of them in flight, so that they
 * may arrive out of order: keep a block that comes ahead of a gap in memory, and write it when
 * the gap is filled. Write each block once, in order, never past a missing one. Answer every
 * DATA with ACK | the last block written so far. When the client says DONE | n and all n
 * blocks are written and OUTPUT is closed, answer DONE | n, print "File received
 * successfully.", stay one more second to answer a repeated DONE, then exit 0.
 *
 * Every step: check the result; on failure print what failed on stderr and exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "deadline.h"
#include "wire.h"

#define DEFAULT_OUTPUT "received_file.txt"  /* the lesson's file name */
#define SILENCE_LIMIT_US (5 * US_PER_S)  /* a started client silent this long has given up */
#define LINGER_US (1 * US_PER_S)         /* how long we stay to answer a repeated DONE */

/* A block that arrived ahead of a gap, waiting for its turn. */
struct held_block {
    size_t length;              /* bytes of file data; 0: the slot is free */
    char data[BLOCK_MAX];
};

/*
 * A suggested state (change it as you like). Blocks 0 .. written - 1 are in OUTPUT. A block
 * numbered written + k (0 < k < WINDOW_MAX) waits in held[(written + k) % WINDOW_MAX]: no
 * sender keeps more than WINDOW_MAX blocks unacknowledged, so no two waiting blocks share a
 * slot.
 */
struct reassembly {
    FILE *output;
    uint32_t written;
    struct held_block *held;    /* WINDOW_MAX slots, from calloc() (all free) */
};

/*
 * Takes in DATA | number carrying `length` bytes. Returns 0, or -1 when OUTPUT cannot be
 * written.
 */
static int take_block(struct reassembly *out, uint32_t number, const char *data,
                      size_t length)
{
    /* TODO(step 3): three cases.
     * - number < written: a duplicate, or a retransmission whose ACK was lost. Written
     *   already: never again.
     * - number == written: fwrite() it (check the count), written++; then the blocks that were
     *   waiting behind it: while held[written % WINDOW_MAX] is not free, write it, free the
     *   slot, written++.
     * - written < number < written + WINDOW_MAX: ahead of a gap; copy it into its slot
     *   (memcpy(3)) unless a copy is there already.
     * Anything further is from no correct sender: ignore it. See fwrite(3). */
    (void)out;
    (void)number;
    (void)data;
    (void)length;
    return 0;
}

int main(int argc, char **argv)
{
    /* given: args.port, and args.path (OUTPUT, DEFAULT_OUTPUT when not given) */
    struct program_args args = parse_server_args(argc, argv, DEFAULT_OUTPUT);
    struct reassembly out = { 0 };

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): as in lab 06: a UDP socket with SO_REUSEADDR, bound to args.port on every
     *               interface; calloc() WINDOW_MAX held blocks; open args.path with
     *               fopen(..., "wb") (on failure: the path and strerror(errno) on stderr,
     *               exit 1). The socket's default receive buffer holds about 90 blocks:
     *               the default window of 64 fits (socket(7), SO_RCVBUF, says how to ask for
     *               more). See socket(2), bind(2), calloc(3). */
    /* TODO(step 2): as in lab 06: receive datagrams (recvfrom() with MSG_TRUNC into a buffer
     *               of PACKET_MAX bytes, packet_decode()); the first valid one tells you the
     *               client; ignore anyone else and PACKET_INVALID. Give up (stderr, exit 1)
     *               after SILENCE_LIMIT_US without a datagram once the client has started
     *               (wait_readable(), deadline.h). See recvfrom(2). */
    /* TODO(step 4): every DATA: take_block(), then answer ACK | written - 1 with sendto(),
     *               even when the block changed nothing: after a loss, these repeated
     *               ("duplicate") ACKs tell the sender which block is missing. While written
     *               is 0 there is nothing to acknowledge: send nothing. See sendto(2). */
    /* TODO(step 5): as in lab 06: DONE | n with n == written: fclose() the file and check
     *               the result, then answer DONE | n and print "File received
     *               successfully."; linger LINGER_US, answering every repeated DONE | n.
     *               Free the held blocks, close the socket, exit 0. */
    (void)take_block;  /* remove these three lines once you use them */
    (void)out;
    (void)args;
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
