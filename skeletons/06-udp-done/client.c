/*
 * Lab 06 — reliable file transfer over UDP with a DONE handshake, the client.
 * Read labs/06-udp-done/README.md first; write wire.h (steps A and B) before this file.
 *
 *   client [HOST [PORT [INPUT]]]
 *
 * Send INPUT as numbered DATA blocks, one at a time: send each block again and again until
 * the server acknowledges it (stop-and-wait). Then send DONE | n, again until the server
 * answers DONE | n; only then print "File sent successfully.". Give up, exit 1, after 5 s
 * without progress.
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

#define DEFAULT_INPUT "send_file.txt"    /* the lesson's file name */
#define GIVE_UP_US (5 * US_PER_S)        /* no progress for this long: the server is gone */

/*
 * RFC 6298's timer, with constants for a fast local link rather than the whole Internet
 * (docs/concepts/reliability.md, "Where lab 06 departs from RFC 6298"):
 * - first RTO 100 ms, not 1 s: only the first block waits on it, and a loss there is cheaper;
 * - floor 1 ms, not 1 s: at a 1 s floor every lost datagram would cost a second;
 * - ceiling 500 ms, not 60 s or more: half the server's 1 s linger (LINGER_US in server.c),
 *   so a repeated DONE reaches a server still lingering even when the machine is busy
 *   (a 1 s wait would race the linger's end and lose about half the time);
 * - no G term (RTO = SRTT + max(G, 4 * RTTVAR)): round trips are timed in microseconds, so
 *   G would be 1 us, and wait_readable() rounds up to whole milliseconds anyway.
 */
#define RTO_INITIAL_US (100 * US_PER_MS) /* before the first measurement */
#define RTO_MIN_US (1 * US_PER_MS)       /* a loopback round trip is ~50 us; poll() counts ms */
#define RTO_MAX_US (500 * US_PER_MS)     /* below the server's 1 s linger, see above */

/* The retransmission timeout and what it is computed from (RFC 6298, section 2). */
struct rto {
    int64_t srtt_us;    /* smoothed round-trip time */
    int64_t rttvar_us;  /* how much round-trip times vary */
    int64_t rto_us;     /* how long to wait for an answer before sending again */
    int measured;       /* has there been a first sample? */
};

/* Takes one round-trip measurement into account. */
static void rto_sample(struct rto *rto, int64_t rtt_us)
{
    /* TODO(step 4): RFC 6298, section 2. The first sample R: SRTT = R, RTTVAR = R / 2.
     * Later ones: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, then SRTT = 7/8 SRTT + 1/8 R.
     * Then RTO = SRTT + 4 * RTTVAR, kept between RTO_MIN_US and RTO_MAX_US. */
    (void)rto;
    (void)rtt_us;
}

int main(int argc, char **argv)
{
    /* given: args.host, args.port, and args.path (INPUT, DEFAULT_INPUT when not given) */
    struct program_args args = parse_client_args(argc, argv, DEFAULT_INPUT);
    struct rto rto = { .rto_us = RTO_INITIAL_US };

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): as in lab 05: open args.path ("rb") before anything else (missing:
     *               stderr, exit 1, nothing sent), then a UDP socket and the server's
     *               struct sockaddr_in from args.host and args.port. */
    /* TODO(step 2): write a function that sends one packet and waits for one answer:
     *               sendto() the packet, then wait_readable() (deadline.h) until the packet's
     *               send time + rto.rto_us, and recvfrom() with MSG_DONTWAIT. Ignore answers
     *               from other addresses, invalid ones, and those you are not waiting for (a
     *               late ACK of an earlier block). When the deadline passes, send the packet
     *               again and double rto.rto_us (at most RTO_MAX_US). When GIVE_UP_US pass
     *               without the answer you wait for, fail with a message: "no answer".
     *               See poll(2), recvfrom(2). */
    /* TODO(step 3): read the file in blocks of BLOCK_MAX bytes with fread(); send block
     *               number 0, 1, 2, ... as packet_encode(PACKET_DATA, number, block) and
     *               wait for ACK | number before reading the next block (stop-and-wait). */
    /* TODO(step 4): measure each round trip (monotonic_us() when sent and when answered) and
     *               feed it to rto_sample() — but not when the packet was retransmitted: you
     *               cannot tell which copy the answer is for (Karn's rule). */
    /* TODO(step 5): after the last block, send DONE | n (n = the number of blocks; 0 for an
     *               empty file) the same way, until the server answers DONE | n. Only then
     *               print "File sent successfully.". Close everything, exit 0. */
    (void)rto_sample;  /* remove these three lines once you use them */
    (void)rto;
    (void)args;
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
