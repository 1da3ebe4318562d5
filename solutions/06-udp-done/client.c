/*
 * Lab 06 — reliable file transfer over UDP with a DONE handshake, the client (reference).
 *
 *   client [HOST [PORT [INPUT]]]
 *
 * Sends INPUT as numbered DATA blocks (wire.h), one at a time: each block is sent again and
 * again until the server acknowledges it (stop-and-wait). Then DONE | n, again until the
 * server answers DONE | n; only then "File sent successfully.". Gives up, exit 1, after
 * 5 s without progress.
 *
 * How long to wait before sending again: long enough not to flood a slow server with copies,
 * short enough not to idle after a loss. The round-trip time is measured on every block and
 * the timeout follows it, as TCP does (RFC 6298), with limits suited to loopback (below).
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
#define RTT_GAIN_SHIFT 3                 /* SRTT moves 1/8 of the way to each sample */
#define RTTVAR_GAIN_SHIFT 2              /* RTTVAR moves 1/4 of the way */
#define RTTVAR_WEIGHT 4                  /* RTO = SRTT + 4 * RTTVAR */

/* The retransmission timeout and what it is computed from (RFC 6298, section 2). */
struct rto {
    int64_t srtt_us;    /* smoothed round-trip time */
    int64_t rttvar_us;  /* how much round-trip times vary */
    int64_t rto_us;     /* how long to wait for an answer before sending again */
    int measured;       /* has there been a first sample? */
};

struct sender {
    int sock;
    struct sockaddr_in server;
    struct rto rto;
    int64_t progress_us;  /* when the server last answered what we waited for */
};

static int64_t clamp(int64_t value, int64_t low, int64_t high)
{
    return value < low ? low : value > high ? high : value;
}

static void rto_sample(struct rto *rto, int64_t rtt_us)
{
    if (!rto->measured) {
        rto->srtt_us = rtt_us;
        rto->rttvar_us = rtt_us / 2;
        rto->measured = 1;
    } else {
        int64_t error = rtt_us - rto->srtt_us;
        rto->rttvar_us += ((error < 0 ? -error : error) - rto->rttvar_us) >> RTTVAR_GAIN_SHIFT;
        rto->srtt_us += error >> RTT_GAIN_SHIFT;
    }
    rto->rto_us = clamp(rto->srtt_us + RTTVAR_WEIGHT * rto->rttvar_us, RTO_MIN_US, RTO_MAX_US);
}

static int send_packet(struct sender *tx, const char *packet, size_t length)
{
    ssize_t sent;

    do {
        sent = sendto(tx->sock, packet, length, 0, (const struct sockaddr *)&tx->server,
                      sizeof tx->server);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -1 : 0;
}

/*
 * Sends `packet` until the server answers with `want` | `number`, retransmitting each time the
 * timeout expires. Returns 0, or -1: errno ETIMEDOUT when the server made no progress for
 * GIVE_UP_US, otherwise what the failed call set. Answers we are not waiting for (a late ACK
 * of an earlier block, a duplicate) are ignored.
 */
static int exchange(struct sender *tx, const char *packet, size_t length,
                    enum packet_kind want, uint32_t number)
{
    char reply[PACKET_MAX];
    int64_t sent_at = monotonic_us();
    int retransmitted = 0;

    if (send_packet(tx, packet, length) < 0)
        return -1;
    for (;;) {
        int64_t give_up = tx->progress_us + GIVE_UP_US;
        int64_t resend = sent_at + tx->rto.rto_us;
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        uint32_t got_number;
        ssize_t got;
        int ready = wait_readable(tx->sock, resend < give_up ? resend : give_up);

        if (ready < 0)
            return -1;
        if (ready == 0) {
            if (monotonic_us() >= give_up) {
                errno = ETIMEDOUT;
                return -1;
            }
            /* Lost on the way there or back, or just slow: send again, and wait twice as
             * long next time, in case the network is congested rather than lossy. */
            tx->rto.rto_us = clamp(2 * tx->rto.rto_us, RTO_MIN_US, RTO_MAX_US);
            retransmitted = 1;
            sent_at = monotonic_us();
            if (send_packet(tx, packet, length) < 0)
                return -1;
            continue;
        }
        got = recvfrom(tx->sock, reply, sizeof reply, MSG_DONTWAIT | MSG_TRUNC,
                       (struct sockaddr *)&from, &from_len);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -1;
        }
        if (from.sin_addr.s_addr != tx->server.sin_addr.s_addr ||
            from.sin_port != tx->server.sin_port)
            continue;  /* not from our server */
        if (packet_decode(reply, (size_t)got, &got_number) != want || got_number != number)
            continue;
        tx->progress_us = monotonic_us();
        /* Karn's rule: after a retransmission we cannot tell which copy this answers, so
         * the time it took says nothing about the round trip. */
        if (!retransmitted)
            rto_sample(&tx->rto, tx->progress_us - sent_at);
        return 0;
    }
}

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, DEFAULT_INPUT);
    struct sender tx = { .sock = -1, .rto = { .rto_us = RTO_INITIAL_US } };
    char block[BLOCK_MAX];
    char packet[PACKET_MAX];
    FILE *input = NULL;
    uint32_t blocks = 0;    /* blocks sent and acknowledged so far */
    size_t length;
    int status = EXIT_FAILURE;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    /* Open the file first: a missing file must not send the server anything. */
    input = fopen(args.path, "rb");
    if (input == NULL) {
        fprintf(stderr, "client: cannot open %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }
    tx.sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (tx.sock < 0) {
        perror("client: socket");
        goto cleanup;
    }
    tx.server.sin_family = AF_INET;
    tx.server.sin_addr = args.host;       /* where we were told, never INADDR_ANY */
    tx.server.sin_port = htons(args.port);
    tx.progress_us = monotonic_us();

    /* fread() fills the block unless the file ends (or fails) first; a file whose size is
     * a multiple of BLOCK_MAX ends with a full block, not an empty one. */
    while ((length = fread(block, 1, sizeof block, input)) > 0) {
        if (blocks == UINT32_MAX) {
            fprintf(stderr, "client: %s has too many blocks for a 32-bit number\n", args.path);
            goto cleanup;
        }
        length = packet_encode(packet, PACKET_DATA, blocks, block, length);
        if (exchange(&tx, packet, length, PACKET_ACK, blocks) < 0)
            goto failed;
        blocks++;
    }
    if (ferror(input)) {
        fprintf(stderr, "client: cannot read %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }

    /* Only the server's DONE says that the whole file is written: until then we cannot claim
     * success, and our DONE is sent again like any block. */
    length = packet_encode(packet, PACKET_DONE, blocks, NULL, 0);
    if (exchange(&tx, packet, length, PACKET_DONE, blocks) < 0)
        goto failed;
    printf("File sent successfully.\n");
    status = EXIT_SUCCESS;
    goto cleanup;

failed:
    if (errno == ETIMEDOUT)
        fprintf(stderr, "client: no answer from the server for %d s (at block %u of %s): "
                        "giving up\n", GIVE_UP_US / US_PER_S, (unsigned)blocks, args.path);
    else
        perror("client: sendto/recvfrom");
cleanup:
    if (input != NULL)
        fclose(input);
    if (tx.sock >= 0)
        close(tx.sock);
    return status;
}
