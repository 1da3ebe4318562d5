/*
 * Lab 08 — a sliding window over UDP, the server (reference).
 *
 *   server [PORT [OUTPUT]]
 *
 * Receives numbered DATA blocks (wire.h) from a sender that keeps many of them in flight, so
 * they may arrive out of order: a block that comes ahead of a gap is kept in memory, and
 * written when the gap is filled. OUTPUT therefore only ever grows in order, each block
 * written once and never past a missing one. Every DATA is answered with a cumulative ACK:
 * the number of the last block written so far. The ending is lab 06's: DONE | n once all n
 * blocks are written and OUTPUT is closed, "File received successfully.", one second more to
 * answer a repeated DONE, exit 0.
 *
 * Any lab 06 client works with this server: it sends one block at a time, and the cumulative
 * ACK of the block it sent is that block's own number.
 */
#define _GNU_SOURCE   /* recvmmsg(2), sendmmsg(2): Linux's calls for many datagrams at once */

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
#define OUTPUT_BUFFER_BYTES (64 * 1024)  /* stdio's buffer for OUTPUT: one write(2) per 64
                                            blocks instead of one per 4 */
/* Datagrams taken in, and ACKs sent, per system call. At full speed tens of DATA are waiting
 * whenever we look: one recvmmsg() for all of them and one sendmmsg() for their ACKs, instead
 * of a recvfrom() and a sendto() each, leave the CPU to the datagrams themselves (16 MiB on
 * loopback: about a quarter faster). */
#define BATCH 64

struct receiver {
    int sock;
    struct sockaddr_in client;  /* the one peer we serve, set by its first valid datagram */
    int started;                /* has that first datagram arrived? */
    /* The datagrams the last recvmmsg() read: in_count of them, in_next the next to look at. */
    struct mmsghdr in[BATCH];
    struct iovec in_iov[BATCH];
    struct sockaddr_in in_from[BATCH];
    char (*in_packets)[PACKET_MAX];   /* BATCH of them, from malloc() */
    unsigned in_count, in_next;
    /* ACKs waiting to go out, in order, in one sendmmsg(). */
    struct mmsghdr out[BATCH];
    struct iovec out_iov[BATCH];
    char out_packets[BATCH][HEADER_LEN];
    unsigned out_count;
};

/* A block that arrived ahead of a gap, waiting for its turn. */
struct held_block {
    size_t length;              /* bytes of file data; 0: the slot is free */
    char data[BLOCK_MAX];
};

/*
 * What is written, and what waits. Blocks 0 .. written - 1 are in OUTPUT. A block numbered
 * written + k (0 < k < WINDOW_MAX) waits in held[(written + k) % WINDOW_MAX]: no sender keeps
 * more than WINDOW_MAX blocks unacknowledged, so no two waiting blocks share a slot, and the
 * slot of `written` itself is always free (when `written` grows into a held block, that block
 * is written at once).
 */
struct reassembly {
    FILE *output;
    uint32_t written;
    struct held_block *held;    /* WINDOW_MAX slots */
    char *output_buffer;        /* stdio's buffer for OUTPUT, ours to free after fclose() */
};

static int same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* Sends the ACKs waiting in rx->out. Returns 0, or -1 (said on stderr). */
static int flush_acks(struct receiver *rx)
{
    unsigned sent = 0;

    while (sent < rx->out_count) {
        int n = sendmmsg(rx->sock, rx->out + sent, rx->out_count - sent, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("server: sendmmsg");
            return -1;
        }
        sent += (unsigned)n;   /* it may send fewer than asked: then again, with the rest */
    }
    rx->out_count = 0;
    return 0;
}

/* Reads what is waiting, up to BATCH datagrams, without waiting. Returns how many, 0 when
 * there was nothing, -1 (said on stderr). */
static int read_batch(struct receiver *rx)
{
    int got;

    for (unsigned i = 0; i < BATCH; i++) {
        rx->in_iov[i] = (struct iovec){ .iov_base = rx->in_packets[i], .iov_len = PACKET_MAX };
        rx->in[i].msg_hdr = (struct msghdr){ .msg_name = &rx->in_from[i],
                                             .msg_namelen = sizeof rx->in_from[i],
                                             .msg_iov = &rx->in_iov[i], .msg_iovlen = 1 };
    }
    do {
        got = recvmmsg(rx->sock, rx->in, BATCH, MSG_DONTWAIT, NULL);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        perror("server: recvmmsg");
        return -1;
    }
    rx->in_count = (unsigned)got;
    rx->in_next = 0;
    return got;
}

/* Waits until `deadline_us` for a valid datagram from our client. Returns 1 with a pointer to
 * it (valid until the next call) and its kind, number and length stored, 0 when the deadline
 * passed, or -1 (said on stderr). Datagrams that are malformed or come from anyone else are
 * skipped: they are not part of this file. */
static int receive_packet(struct receiver *rx, int64_t deadline_us, const char **packet,
                          enum packet_kind *kind, uint32_t *number, size_t *length)
{
    for (;;) {
        const struct mmsghdr *taken;
        unsigned i;
        int got;

        if (rx->in_next == rx->in_count) {
            /* The batch is used up: its ACKs go out before we look for more. Then read what
             * is waiting, and wait only when nothing is: at full speed a datagram nearly
             * always is, and a poll() before each read would double the system calls. */
            if (flush_acks(rx) < 0)
                return -1;
            got = read_batch(rx);
            if (got == 0) {
                got = wait_readable(rx->sock, deadline_us);
                if (got < 0)
                    perror("server: poll");
            }
            if (got <= 0)
                return got;
            continue;
        }
        i = rx->in_next++;
        taken = &rx->in[i];
        *packet = rx->in_packets[i];
        /* A datagram longer than PACKET_MAX was cut short (MSG_TRUNC): none of ours is. */
        if (taken->msg_hdr.msg_flags & MSG_TRUNC)
            continue;
        *kind = packet_decode(*packet, taken->msg_len, number);
        if (*kind == PACKET_INVALID || (rx->started && !same_peer(&rx->in_from[i], &rx->client)))
            continue;
        if (!rx->started) {
            rx->client = rx->in_from[i];
            rx->started = 1;
        }
        *length = taken->msg_len;
        return 1;
    }
}

/* Queues ACK | number, to go out with the rest of the batch's ACKs. Returns 0 or -1. */
static int acknowledge(struct receiver *rx, uint32_t number)
{
    unsigned i;

    if (rx->out_count == BATCH && flush_acks(rx) < 0)
        return -1;
    i = rx->out_count++;
    rx->out_iov[i] = (struct iovec){
        .iov_base = rx->out_packets[i],
        .iov_len = packet_encode(rx->out_packets[i], PACKET_ACK, number, NULL, 0) };
    rx->out[i].msg_hdr = (struct msghdr){ .msg_name = &rx->client,
                                          .msg_namelen = sizeof rx->client,
                                          .msg_iov = &rx->out_iov[i], .msg_iovlen = 1 };
    return 0;
}

/* Sends DONE | number at once, after the ACKs still waiting (the client reads them in order). */
static int answer_done(struct receiver *rx, uint32_t number)
{
    char packet[HEADER_LEN];
    size_t length = packet_encode(packet, PACKET_DONE, number, NULL, 0);
    ssize_t sent;

    if (flush_acks(rx) < 0)
        return -1;
    do {
        sent = sendto(rx->sock, packet, length, 0, (const struct sockaddr *)&rx->client,
                      sizeof rx->client);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0)
        perror("server: sendto");
    return sent < 0 ? -1 : 0;
}

static int write_block(struct reassembly *out, const char *data, size_t length)
{
    if (fwrite(data, 1, length, out->output) != length)
        return -1;
    out->written++;
    return 0;
}

/*
 * Takes in DATA | number carrying `length` bytes: writes it if it is the next block, keeps it
 * if it comes ahead of a gap, and drops it if it is written already (a duplicate, or a
 * retransmission whose ACK was lost). Returns 0, or -1 when OUTPUT cannot be written.
 */
static int take_block(struct reassembly *out, uint32_t number, const char *data,
                      size_t length)
{
    uint32_t ahead = number - out->written;   /* well defined: unsigned arithmetic wraps */

    if (number < out->written || ahead >= WINDOW_MAX)
        return 0;   /* written already; or beyond any window, which no correct sender sends */
    if (ahead > 0) {
        struct held_block *slot = &out->held[number % WINDOW_MAX];
        if (slot->length == 0) {   /* a second copy of a waiting block changes nothing */
            memcpy(slot->data, data, length);
            slot->length = length;
        }
        return 0;
    }
    if (write_block(out, data, length) < 0)
        return -1;
    /* The gap this block filled may have had blocks waiting behind it: write them now, in
     * order, up to the next gap. */
    for (;;) {
        struct held_block *slot = &out->held[out->written % WINDOW_MAX];
        if (slot->length == 0)
            return 0;
        if (write_block(out, slot->data, slot->length) < 0)
            return -1;
        slot->length = 0;
    }
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, DEFAULT_OUTPUT);
    struct receiver rx = { .sock = -1 };
    struct reassembly out = { 0 };
    struct sockaddr_in address = { 0 };
    const char *packet = NULL;
    uint32_t number = 0;
    size_t length = 0;
    int reuse = 1;
    enum packet_kind kind = PACKET_INVALID;
    int ready;
    int status = EXIT_FAILURE;
    int64_t linger_end;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    rx.sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (rx.sock < 0) {
        perror("server: socket");
        goto cleanup;
    }
    if (setsockopt(rx.sock, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto cleanup;
    }
    /* The receive buffer stays the kernel's default, 208 KiB. The kernel counts a queued
     * 1032-byte datagram as 2304 bytes, its bookkeeping included (`ss -uam` shows it), so the
     * default holds 92: the default window of 64, and some to spare. A client with a larger
     * window may lose the end of a burst here, and repairs it, a little slower. A buffer of
     * thousands (SO_RCVBUF, up to net.core.rmem_max) would spare it that, but would also let a
     * sender that ignores flow control get away with it on an idle machine, and fail on a busy
     * one: the window, not the buffer, is what keeps the receiver from drowning. */
    address.sin_family = AF_INET;
    address.sin_addr = args.host;          /* INADDR_ANY: every interface of this machine */
    address.sin_port = htons(args.port);
    if (bind(rx.sock, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }
    out.held = calloc(WINDOW_MAX, sizeof *out.held);   /* calloc: every slot starts free */
    out.output_buffer = malloc(OUTPUT_BUFFER_BYTES);
    rx.in_packets = malloc(BATCH * sizeof *rx.in_packets);
    if (out.held == NULL || out.output_buffer == NULL || rx.in_packets == NULL) {
        perror("server: malloc");
        goto cleanup;
    }
    out.output = fopen(args.path, "wb");
    if (out.output == NULL) {
        fprintf(stderr, "server: cannot create %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }
    if (setvbuf(out.output, out.output_buffer, _IOFBF, OUTPUT_BUFFER_BYTES) != 0) {
        fprintf(stderr, "server: setvbuf failed\n");
        goto cleanup;
    }

    /* Until the client's DONE finds every block written. The first datagram may take as long
     * as it likes; after that, a client silent for SILENCE_LIMIT_US is gone. */
    for (;;) {
        int64_t deadline = rx.started ? monotonic_us() + SILENCE_LIMIT_US : NO_DEADLINE;

        ready = receive_packet(&rx, deadline, &packet, &kind, &number, &length);
        if (ready < 0)
            goto cleanup;
        if (ready == 0) {
            fprintf(stderr, "server: nothing from the client for %d s after block %u: "
                            "giving up\n", SILENCE_LIMIT_US / US_PER_S, (unsigned)out.written);
            goto cleanup;
        }
        if (kind == PACKET_DATA) {
            if (take_block(&out, number, packet + HEADER_LEN, length - HEADER_LEN) < 0) {
                fprintf(stderr, "server: cannot write %s: %s\n", args.path, strerror(errno));
                goto cleanup;
            }
            /* Every DATA gets an ACK of the last block written, even one that changed
             * nothing: after a loss, these repeated ACKs ("duplicate ACKs") tell the sender
             * which block is missing. Before block 0 there is nothing to acknowledge (the
             * sender's timer will send block 0 again). */
            if (out.written > 0 && acknowledge(&rx, out.written - 1) < 0)
                goto cleanup;
        } else if (kind == PACKET_DONE && number == out.written) {
            break;
        }
        /* Anything else (an early DONE, a stray ACK) says nothing we can act on; the client's
         * retransmission will bring what we need. */
    }

    /* fclose() writes what stdio still buffers: only its success means the file is whole,
     * and only then may we tell the client so. */
    if (fclose(out.output) != 0) {
        out.output = NULL;
        fprintf(stderr, "server: cannot write %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }
    out.output = NULL;
    if (answer_done(&rx, out.written) < 0)
        goto cleanup;
    printf("File received successfully.\n");

    /* Our DONE may be lost like any datagram, and the client, not knowing, will send its DONE
     * again. Had we exited, nobody would answer and it would give up on a file that arrived
     * whole. So we stay a while and answer every repeated DONE. */
    linger_end = monotonic_us() + LINGER_US;
    for (;;) {
        ready = receive_packet(&rx, linger_end, &packet, &kind, &number, &length);
        if (ready < 0)
            goto cleanup;
        if (ready == 0)
            break;  /* the second is over */
        if (kind == PACKET_DONE && number == out.written && answer_done(&rx, out.written) < 0)
            goto cleanup;
    }
    status = EXIT_SUCCESS;

cleanup:
    if (out.output != NULL)
        fclose(out.output);
    free(out.output_buffer);   /* after fclose(): stdio uses it until then */
    free(out.held);
    free(rx.in_packets);
    if (rx.sock >= 0)
        close(rx.sock);
    return status;
}
