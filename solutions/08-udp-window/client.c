/*
 * Lab 08 — a sliding window over UDP, the client (reference).
 *
 *   client [HOST [PORT [INPUT [WINDOW]]]]
 *
 * Sends INPUT as numbered DATA blocks (wire.h), like lab 06, but without waiting for each
 * block's ACK: up to WINDOW blocks (1..1024, default 64) may be in flight, unacknowledged, at
 * any time. Each ACK that acknowledges new blocks slides the window on and lets as many new
 * blocks go. A lost block is sent again either when three duplicate ACKs say it is missing
 * (fast retransmit), or when the retransmission timer, which follows the measured round trip
 * (RFC 6298), expires. Then DONE | n until the server answers DONE | n; only then "File sent
 * successfully.". Gives up, exit 1, after 5 s without progress.
 *
 * Works with any lab 06 server too: that one drops blocks that arrive ahead of a gap and
 * never sends a duplicate ACK, so every loss waits for the timer — slower, still correct.
 * WINDOW 1 is lab 06's stop-and-wait.
 */
#define _GNU_SOURCE   /* recvmmsg(2): Linux's call for many datagrams at once */

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
#define WINDOW_DEFAULT 64                /* ~64 KiB in flight: plenty for loopback or a LAN,
                                            and within the receiver's default socket buffer */
#define GIVE_UP_US (5 * US_PER_S)        /* no progress for this long: the server is gone */
#define DUP_ACK_THRESHOLD 3              /* duplicate ACKs that mean "lost" (RFC 5681): one or
                                            two may come from mere reordering */
/* Room for the ACKs of a whole window: a queued 8-byte ACK counts as 832 bytes (`ss -uam`),
 * so the default buffer, 208 KiB, holds 256 of them; the kernel doubles what we ask for
 * (socket(7)). Capped by net.core.rmem_max; even then little is lost: ACKs are cumulative,
 * and the next one that gets through says as much as those dropped before it. */
#define RECEIVE_BUFFER_BYTES (WINDOW_MAX * PACKET_MAX)
/* ACKs read per system call: at full speed tens of them wait whenever we look, and one
 * recvmmsg() for all of them instead of a recvfrom() each leaves the CPU to the datagrams. */
#define ACK_BATCH 64
#define INPUT_BUFFER_BYTES (64 * 1024)   /* stdio's buffer for INPUT: one read(2) per 64
                                            blocks instead of one per 4 */

/*
 * RFC 6298's timer, with constants for a fast local link rather than the whole Internet
 * (docs/concepts/windows.md, "Where lab 08 departs from the RFCs"):
 * - first RTO 100 ms, not 1 s: 100 ms is still ~2000 loopback round trips;
 * - floor 50 ms, not 1 s (but 50 times lab 06's 1 ms): fast retransmit repairs nearly
 *   every loss within a round trip, and the timer is left with what it cannot see (a lost
 *   retransmission, the last blocks of the file, DONE). Those are rare, so a floor far above
 *   a loopback round trip costs little, and it keeps a busy machine, which may not run us
 *   or the server for tens of milliseconds, from firing the timer by mistake — each false
 *   alarm sends up to a whole window again;
 * - ceiling 500 ms, as in lab 06: half the server's 1 s linger (LINGER_US in server.c), so
 *   a repeated DONE reaches a server still lingering even when the machine is busy.
 */
#define RTO_INITIAL_US (100 * US_PER_MS) /* before the first measurement */
#define RTO_MIN_US (50 * US_PER_MS)
#define RTO_MAX_US (500 * US_PER_MS)     /* below the server's 1 s linger, see above */
/* When a loss is being repaired, the block just sent again is acknowledged within about a round
 * trip, or it was lost too (one retransmission in twenty, through 5% loss), or its ACK was.
 * Waiting a whole RTO for each of those would cost more than fast retransmit saves, so the timer
 * then waits PROBE_RTTS smoothed round trips, at least PROBE_MIN_US, before sending the oldest
 * block once more: a probe, in the spirit of RFC 8985's tail loss probe. The same short wait
 * serves when a loss is suspected but fast retransmit may not act (three duplicate ACKs within
 * the last repair, see on_ack()), and at the tail of the file, where no later block will
 * produce duplicate ACKs. Unanswered, the wait doubles, up to the RTO itself. A needless probe
 * costs one datagram, not a window. */
#define PROBE_RTTS 2
#define PROBE_MIN_US (2 * US_PER_MS)     /* poll() counts milliseconds */
#define PROBES_MAX 10                    /* doublings: by then the RTO is the shorter wait */
#define SRTT_GAIN 8                      /* SRTT moves 1/8 of the way to each sample */
#define RTTVAR_GAIN 4                    /* RTTVAR moves 1/4 of the way */
#define RTTVAR_WEIGHT 4                  /* RTO = SRTT + 4 * RTTVAR */

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
 * The window: blocks base .. next - 1 are in flight (sent, not yet acknowledged), and
 * next - base <= window. Block seq lives in slots[seq % window]: a slot is reused only once
 * its block is acknowledged, so the ring never overwrites a block that may still be needed.
 */
struct sender {
    int sock;
    struct sockaddr_in server;
    FILE *input;
    struct slot *slots;       /* `window` of them */
    uint32_t window;
    uint32_t base;            /* the oldest unacknowledged block */
    uint32_t next;            /* the next block to send for the first time */
    int input_done;           /* INPUT is read to its end: `next` is the number of blocks */
    unsigned dup_acks;        /* ACKs in a row that repeated base - 1 */
    unsigned probes;          /* probes unanswered in a row, while repairing */
    int recovering;           /* repairing a loss: until recover_end - 1 is acknowledged */
    uint32_t recover_end;     /* `next` when the loss was found ("recover" + 1, RFC 6582) */
    int64_t timer_us;         /* when the retransmission timer was last started */
    int64_t progress_us;      /* when the server last acknowledged something new */
    struct rto rto;
    /* Where recvmmsg() puts a batch of answers. An ACK is HEADER_LEN bytes: anything longer
     * is cut short, flagged MSG_TRUNC, and ignored. */
    struct mmsghdr answers[ACK_BATCH];
    struct iovec answer_iov[ACK_BATCH];
    struct sockaddr_in answer_from[ACK_BATCH];
    char answer_packets[ACK_BATCH][HEADER_LEN];
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
        /* Divided, not shifted: >> on a negative number is implementation-defined in C. */
        rto->rttvar_us += ((error < 0 ? -error : error) - rto->rttvar_us) / RTTVAR_GAIN;
        rto->srtt_us += error / SRTT_GAIN;
    }
    rto->rto_us = clamp(rto->srtt_us + RTTVAR_WEIGHT * rto->rttvar_us, RTO_MIN_US, RTO_MAX_US);
}

/* A whole decimal number in 1..WINDOW_MAX, nothing else: like parse_port() in args.h. */
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
 * client [HOST [PORT [INPUT [WINDOW]]]]: args.h knows the first three; WINDOW is ours. Every
 * argument is checked here first, so that any mistake prints the whole synopsis, WINDOW
 * included; then parse_client_args() takes the first three, which it will find good.
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

static struct slot *slot_of(struct sender *tx, uint32_t seq)
{
    return &tx->slots[seq % tx->window];
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

/* (Re)starts the retransmission timer: it times the oldest block in flight. */
static void start_timer(struct sender *tx, int64_t now)
{
    tx->timer_us = now;
}

/* Sends block `seq`, in flight already, once more. */
static int retransmit(struct sender *tx, uint32_t seq, int64_t now)
{
    struct slot *slot = slot_of(tx, seq);

    slot->sent_us = now;
    slot->retransmitted = 1;
    /* Only the oldest block is ever retransmitted, and the timer times it: restart it, or it
     * would fire before this copy had a round trip to be acknowledged in. */
    start_timer(tx, now);
    return send_packet(tx, slot->packet, slot->length);
}

/* What fill_window() may return besides 0. */
enum { SEND_FAILED = -1, INPUT_FAILED = -2 };

/*
 * Sends new blocks while the window has room: reads each from INPUT into its slot first.
 * Returns 0; SEND_FAILED with errno set; or INPUT_FAILED, said on stderr already.
 */
static int fill_window(struct sender *tx, const char *path)
{
    /* While repairing a loss, only retransmissions go: a lab 06 server would drop new blocks
     * sent behind the gap, and when the window is full (the usual case) none could go anyway. */
    while (!tx->input_done && !tx->recovering && tx->next - tx->base < tx->window) {
        char block[BLOCK_MAX];
        struct slot *slot = slot_of(tx, tx->next);
        /* fread() fills the block unless the file ends (or fails) first; a file whose size
         * is a multiple of BLOCK_MAX ends with a full block, not an empty one. */
        size_t length = fread(block, 1, sizeof block, tx->input);
        int64_t now;

        if (length == 0) {
            if (ferror(tx->input)) {
                fprintf(stderr, "client: cannot read %s: %s\n", path, strerror(errno));
                return INPUT_FAILED;
            }
            tx->input_done = 1;
            break;
        }
        if (tx->next == UINT32_MAX) {   /* UINT32_MAX blocks already: no number left */
            fprintf(stderr, "client: %s has too many blocks for a 32-bit number\n", path);
            return INPUT_FAILED;
        }
        slot->length = packet_encode(slot->packet, PACKET_DATA, tx->next, block, length);
        now = monotonic_us();
        slot->sent_us = now;
        slot->retransmitted = 0;
        if (tx->next == tx->base)
            start_timer(tx, now);   /* nothing was in flight: the timer was not running */
        if (send_packet(tx, slot->packet, slot->length) < 0)
            return SEND_FAILED;
        tx->next++;
    }
    return 0;
}

/* Takes in ACK | acked: slides the window, or counts a duplicate. Returns 0 or -1. */
static int on_ack(struct sender *tx, uint32_t acked)
{
    int64_t now = monotonic_us();
    int sample = 1;

    if (acked >= tx->next)
        return 0;   /* for a block we never sent: not an answer to us */
    if (acked < tx->base) {
        /* Nothing new. If it repeats the last ACK while blocks are in flight, the server
         * received a block but not the one it needs next, base: after three in a row, base
         * is lost, not merely overtaken. Not if the repeated ACK is within the last recovery,
         * though (RFC 6582, 3.2 step 1): then the duplicates may answer our own
         * retransmissions of blocks the server had already, and retransmitting again would
         * feed on itself. (Older numbers, as a lab 06 server sends for a duplicate block,
         * say nothing: they are ignored.) */
        if (acked + 1 == tx->base && tx->base < tx->next &&
            ++tx->dup_acks == DUP_ACK_THRESHOLD && !tx->recovering &&
            tx->base > tx->recover_end) {
            tx->recovering = 1;
            tx->recover_end = tx->next;
            return retransmit(tx, tx->base, now);   /* fast retransmit (RFC 5681) */
        }
        return 0;
    }
    /* New blocks acknowledged, up to `acked`. Karn's rule, for a cumulative ACK: the time
     * since `acked` was sent is a round trip only if no block it covers was retransmitted
     * (the ACK may answer that retransmission, long after `acked` itself arrived). */
    for (uint32_t seq = tx->base; seq <= acked; seq++)
        sample = sample && !slot_of(tx, seq)->retransmitted;
    if (sample)
        rto_sample(&tx->rto, now - slot_of(tx, acked)->sent_us);
    tx->base = acked + 1;
    tx->dup_acks = 0;
    tx->probes = 0;
    tx->progress_us = now;
    if (tx->recovering) {
        if (tx->base >= tx->recover_end) {
            tx->recovering = 0;   /* every block in flight at the loss is through */
        } else {
            /* A partial ACK (RFC 6582, NewReno): the repaired block got through, and the one
             * after the new base is missing too — a second loss in the same window, or, with
             * a lab 06 server, the blocks it dropped. Repair it at once, without waiting. */
            return retransmit(tx, tx->base, now);
        }
    }
    if (tx->base < tx->next)
        start_timer(tx, now);   /* RFC 6298 (5.3): new data acknowledged, blocks still out */
    return 0;
}

/* How long the timer waits for the oldest block in flight: the RTO, or a probe's shorter wait
 * (see PROBE_RTTS) while a loss is repaired or suspected, or at the tail of the file. */
static int64_t timer_length(const struct sender *tx)
{
    int suspect = tx->recovering || tx->dup_acks >= DUP_ACK_THRESHOLD || tx->input_done;
    int64_t probe;

    if (!suspect || !tx->rto.measured)
        return tx->rto.rto_us;
    probe = clamp(PROBE_RTTS * tx->rto.srtt_us, PROBE_MIN_US, tx->rto.rto_us) << tx->probes;
    return probe < tx->rto.rto_us ? probe : tx->rto.rto_us;
}

/* The retransmission timer expired: the oldest block, or its every ACK, is lost. */
static int on_timeout(struct sender *tx, int64_t now)
{
    if (timer_length(tx) < tx->rto.rto_us && tx->probes < PROBES_MAX) {
        tx->probes++;   /* a probe went unanswered: the next waits twice as long */
    } else {
        /* Back off (RFC 6298, 5.5): maybe the path is congested rather than lossy. The next
         * measured round trip brings the timeout back down. */
        tx->rto.rto_us = clamp(2 * tx->rto.rto_us, RTO_MIN_US, RTO_MAX_US);
    }
    tx->dup_acks = 0;
    if (!tx->recovering) {
        tx->recovering = 1;
        tx->recover_end = tx->next;
    }
    return retransmit(tx, tx->base, now);
}

/*
 * Takes in every ACK waiting, up to ACK_BATCH; when none is waiting, handles the timer if it
 * expired, or waits until it does (or the give-up time) or something arrives. Returns 0, or
 * -1 with errno set (ETIMEDOUT: no progress for GIVE_UP_US).
 */
static int take_answers(struct sender *tx)
{
    int64_t give_up = tx->progress_us + GIVE_UP_US;
    int64_t now = monotonic_us();
    int64_t resend = tx->timer_us + timer_length(tx);
    int got;

    if (now >= give_up) {
        errno = ETIMEDOUT;
        return -1;
    }
    for (unsigned i = 0; i < ACK_BATCH; i++) {
        tx->answer_iov[i] = (struct iovec){ .iov_base = tx->answer_packets[i],
                                            .iov_len = HEADER_LEN };
        tx->answers[i].msg_hdr = (struct msghdr){ .msg_name = &tx->answer_from[i],
                                                  .msg_namelen = sizeof tx->answer_from[i],
                                                  .msg_iov = &tx->answer_iov[i],
                                                  .msg_iovlen = 1 };
    }
    /* Try first, wait only when nothing is there (see server.c). */
    got = recvmmsg(tx->sock, tx->answers, ACK_BATCH, MSG_DONTWAIT, NULL);
    if (got < 0) {
        if (errno == EINTR)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        /* The timer is looked at only now that no ACK is waiting: on a busy machine we may
         * not have run for longer than the timeout while the ACKs queued up here, and they,
         * not a retransmission, are the answer. (Duplicate ACKs cannot keep the socket busy
         * for ever: at most one comes for each block sent.) */
        if (tx->base < tx->next && now >= resend)
            return on_timeout(tx, now);
        got = wait_readable(tx->sock, (tx->base < tx->next && resend < give_up) ? resend
                                                                               : give_up);
        return got < 0 ? -1 : 0;   /* readable or time is up: the next turn sees which */
    }
    for (int i = 0; i < got; i++) {
        const struct sockaddr_in *from = &tx->answer_from[i];
        uint32_t acked;

        if (from->sin_addr.s_addr != tx->server.sin_addr.s_addr ||
            from->sin_port != tx->server.sin_port || (tx->answers[i].msg_hdr.msg_flags & MSG_TRUNC))
            continue;   /* not from our server, or too long to be an ACK */
        if (packet_decode(tx->answer_packets[i], tx->answers[i].msg_len, &acked) == PACKET_ACK &&
            on_ack(tx, acked) < 0)
            return -1;
    }
    return 0;
}

/*
 * The end, stop-and-wait as in lab 06: DONE | blocks, sent again at each timeout, until the
 * server answers DONE | blocks. Returns 0, or -1 with errno set (ETIMEDOUT: no answer).
 */
static int finish(struct sender *tx)
{
    char packet[HEADER_LEN];
    char reply[PACKET_MAX];
    size_t length = packet_encode(packet, PACKET_DONE, tx->next, NULL, 0);
    int64_t sent_at = monotonic_us();
    int retransmitted = 0;

    if (send_packet(tx, packet, length) < 0)
        return -1;
    for (;;) {
        int64_t give_up = tx->progress_us + GIVE_UP_US;
        int64_t resend = sent_at + tx->rto.rto_us;
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        uint32_t number;
        ssize_t got;
        int ready = wait_readable(tx->sock, resend < give_up ? resend : give_up);

        if (ready < 0)
            return -1;
        if (ready == 0) {
            if (monotonic_us() >= give_up) {
                errno = ETIMEDOUT;
                return -1;
            }
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
        /* Late ACKs of the blocks are still coming in: only DONE | blocks ends this. */
        if (packet_decode(reply, (size_t)got, &number) != PACKET_DONE || number != tx->next)
            continue;
        tx->progress_us = monotonic_us();
        if (!retransmitted)
            rto_sample(&tx->rto, tx->progress_us - sent_at);
        return 0;
    }
}

int main(int argc, char **argv)
{
    uint32_t window;
    struct program_args args = parse_arguments(argc, argv, &window);
    struct sender tx = { .sock = -1, .window = window, .rto = { .rto_us = RTO_INITIAL_US } };
    char *input_buffer = NULL;   /* stdio's buffer for INPUT, ours to free after fclose() */
    int buffer_bytes = RECEIVE_BUFFER_BYTES;
    int status = EXIT_FAILURE;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    /* Open the file first: a missing file must not send the server anything. */
    tx.input = fopen(args.path, "rb");
    if (tx.input == NULL) {
        fprintf(stderr, "client: cannot open %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }
    tx.slots = malloc(tx.window * sizeof *tx.slots);
    input_buffer = malloc(INPUT_BUFFER_BYTES);
    if (tx.slots == NULL || input_buffer == NULL) {
        perror("client: malloc");
        goto cleanup;
    }
    if (setvbuf(tx.input, input_buffer, _IOFBF, INPUT_BUFFER_BYTES) != 0) {
        fprintf(stderr, "client: setvbuf failed\n");
        goto cleanup;
    }
    tx.sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (tx.sock < 0) {
        perror("client: socket");
        goto cleanup;
    }
    if (setsockopt(tx.sock, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes) < 0) {
        perror("client: setsockopt SO_RCVBUF");
        goto cleanup;
    }
    tx.server.sin_family = AF_INET;
    tx.server.sin_addr = args.host;       /* where we were told, never INADDR_ANY */
    tx.server.sin_port = htons(args.port);
    tx.progress_us = monotonic_us();

    /* Until every block of the file is sent and acknowledged. */
    for (;;) {
        int filled = fill_window(&tx, args.path);

        if (filled == INPUT_FAILED)
            goto cleanup;
        if (filled == SEND_FAILED)
            goto failed;
        if (tx.input_done && tx.base == tx.next)
            break;
        if (take_answers(&tx) < 0)
            goto failed;
    }

    /* Only the server's DONE says that the whole file is written: until then we cannot claim
     * success, and our DONE is sent again like any block. */
    if (finish(&tx) < 0)
        goto failed;
    printf("File sent successfully.\n");
    status = EXIT_SUCCESS;
    goto cleanup;

failed:
    if (errno == ETIMEDOUT)
        fprintf(stderr, "client: no answer from the server for %d s (%u of the blocks of %s "
                        "acknowledged): giving up\n", GIVE_UP_US / US_PER_S,
                (unsigned)tx.base, args.path);
    else
        perror("client: sendto/recvmmsg");
cleanup:
    if (tx.input != NULL)
        fclose(tx.input);
    free(input_buffer);   /* after fclose(): stdio uses it until then */
    free(tx.slots);
    if (tx.sock >= 0)
        close(tx.sock);
    return status;
}
