/*
 * Lab 08 — a sliding window over UDP, the client.
 * Read labs/08-udp-window/README.md first. Your lab 06 client is a good start: the wire
 * format, the RTO estimator and the DONE exchange are the same.
 *
 *   client [HOST [PORT [INPUT [WINDOW]]]]
 *
 * Send INPUT as numbered DATA blocks, like lab 06, but do not wait for each block's ACK: keep
 * up to WINDOW blocks (1..1024, default 64) in flight, unacknowledged. Each ACK that
 * acknowledges new blocks slides the window on and lets new blocks go. Send a lost block
 * again at once on the third duplicate ACK (fast retransmit), or when the retransmission
 * timer expires. Then DONE | n until the server answers DONE | n; only then print "File sent
 * successfully.". Give up, exit 1, after 5 s without progress.
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
#define SYNOPSIS "[HOST [PORT [INPUT [WINDOW]]]]"
#define WINDOW_ARG 4                     /* argv[4]: the window, after HOST, PORT and INPUT */
#define WINDOW_DEFAULT 64                /* blocks in flight when WINDOW is not given */
#define GIVE_UP_US (5 * US_PER_S)        /* no progress for this long: the server is gone */
#define DUP_ACK_THRESHOLD 3              /* duplicate ACKs that mean "lost" (RFC 5681) */

/*
 * RFC 6298's timer, as in lab 06, but with a higher floor (docs/concepts/windows.md): fast
 * retransmit repairs most losses within a round trip, so the timer is only for what it
 * cannot see, and a floor well above a loopback round trip keeps a busy machine's scheduling
 * delays from firing it by mistake. The ceiling, as in lab 06, is half the server's 1 s
 * linger (LINGER_US in server.c), so a repeated DONE reaches a server still lingering.
 */
#define RTO_INITIAL_US (100 * US_PER_MS) /* before the first measurement */
#define RTO_MIN_US (50 * US_PER_MS)
#define RTO_MAX_US (500 * US_PER_MS)     /* below the server's 1 s linger, see above */

/* The retransmission timeout and what it is computed from (RFC 6298, section 2). */
struct rto {
    int64_t srtt_us;    /* smoothed round-trip time */
    int64_t rttvar_us;  /* how much round-trip times vary */
    int64_t rto_us;     /* how long to wait for an answer before sending again */
    int measured;       /* has there been a first sample? */
};

/* One block in flight, kept until it is acknowledged, ready to be sent again. */
struct slot {
    int64_t sent_us;          /* when it was last sent */
    int retransmitted;        /* sent more than once: its ACK is no RTT sample (Karn's rule) */
    size_t length;            /* of the packet, header included */
    char packet[PACKET_MAX];  /* DATA | seq | block, as it goes on the wire */
};

/*
 * A suggested state for the sender (change it as you like). Blocks base .. next - 1 are in
 * flight, and next - base <= window at all times. Block seq lives in slots[seq % window]: a
 * slot is reused only once its block is acknowledged.
 */
struct sender {
    int sock;
    struct sockaddr_in server;
    FILE *input;
    struct slot *slots;       /* `window` of them, from malloc() */
    uint32_t window;
    uint32_t base;            /* the oldest unacknowledged block */
    uint32_t next;            /* the next block to send for the first time */
    int input_done;           /* INPUT is read to its end: `next` is the number of blocks */
    unsigned dup_acks;        /* ACKs in a row that repeated base - 1 */
    int64_t timer_us;         /* when the retransmission timer was last started */
    int64_t progress_us;      /* when the server last acknowledged something new */
    struct rto rto;
};

/* Takes one round-trip measurement into account. */
static void rto_sample(struct rto *rto, int64_t rtt_us)
{
    /* TODO(step 3): as in lab 06 (copy yours): SRTT, RTTVAR, then RTO = SRTT + 4 * RTTVAR,
     * kept between RTO_MIN_US and RTO_MAX_US. RFC 6298, section 2. */
    (void)rto;
    (void)rtt_us;
}

/* Given: a whole decimal number in 1..WINDOW_MAX, nothing else (like parse_port()). */
static int parse_window(const char *text, uint32_t *window)
{
    uint32_t value = 0;

    if (*text == '\0')
        return -1;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        value = value * 10 + (uint32_t)(*c - '0');
        if (value > WINDOW_MAX)
            return -1;
    }
    if (value == 0)
        return -1;
    *window = value;
    return 0;
}

/*
 * Given: client [HOST [PORT [INPUT [WINDOW]]]]. args.h knows the first three; WINDOW is ours.
 * Every argument is checked here first, so that any mistake prints the whole synopsis; then
 * parse_client_args() takes the first three, which it will find good.
 */
static struct program_args parse_arguments(int argc, char **argv, uint32_t *window)
{
    struct in_addr host;
    uint16_t port;

    *window = WINDOW_DEFAULT;
    if (argc - 1 > WINDOW_ARG || (argc > 1 && inet_pton(AF_INET, argv[1], &host) != 1) ||
        (argc > 2 && parse_port(argv[2], &port) != 0) ||
        (argc > WINDOW_ARG && parse_window(argv[WINDOW_ARG], window) != 0))
        usage_exit(argv[0], SYNOPSIS);
    return parse_client_args(argc > WINDOW_ARG ? WINDOW_ARG : argc, argv, DEFAULT_INPUT);
}

int main(int argc, char **argv)
{
    uint32_t window;
    /* given: args.host, args.port, args.path (INPUT), and the window */
    struct program_args args = parse_arguments(argc, argv, &window);
    struct sender tx = { .sock = -1, .window = window, .rto = { .rto_us = RTO_INITIAL_US } };

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): as in lab 06: open args.path ("rb") before anything else (missing:
     *               stderr, exit 1, nothing sent), then malloc() the window's slots
     *               (window * sizeof(struct slot)), a UDP socket, and the server's address.
     *               See malloc(3), socket(2). */
    /* TODO(step 2): fill the window: while next - base < window and INPUT is not over,
     *               fread() the next block (BLOCK_MAX bytes at most; 0 means the end), encode
     *               DATA | next into its slot with packet_encode(), note the time it was sent
     *               (monotonic_us()), sendto() it, next++. If nothing was in flight before,
     *               start the timer (timer_us = now). See fread(3), sendto(2). */
    /* TODO(step 3): ACKs. recvfrom() with MSG_DONTWAIT; ignore datagrams that are not an ACK
     *               from your server. An ACK a with base <= a < next acknowledges every block
     *               up to a: base = a + 1, dup_acks = 0, progress made; take the round trip of
     *               block a as an RTT sample, unless a block it covers was retransmitted
     *               (Karn's rule); restart the timer if blocks are still in flight. Then fill
     *               the window again (step 2). See recvfrom(2). */
    /* TODO(step 4): duplicate ACKs. An ACK a == base - 1 while blocks are in flight says the
     *               server got a block, but not base. On the third in a row
     *               (DUP_ACK_THRESHOLD), send block base again at once (fast retransmit),
     *               mark it retransmitted and restart the timer. */
    /* TODO(step 5): the timer. When no datagram is waiting, wait_readable() (deadline.h)
     *               until timer_us + rto.rto_us, or the give-up time if sooner. When the
     *               timer expires with blocks in flight: send block base again, double
     *               rto.rto_us (at most RTO_MAX_US), restart the timer. When GIVE_UP_US pass
     *               without progress: stderr ("no answer from the server"), exit 1. */
    /* TODO(step 6): once every block is acknowledged (INPUT over and base == next), DONE | n
     *               as in lab 06, until the server answers DONE | n. Only then print "File
     *               sent successfully.". Free the slots, close everything, exit 0. */
    (void)rto_sample;  /* remove these three lines once you use them */
    (void)tx;
    (void)args;
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
