/*
 * Lab 06 — reliable file transfer over UDP with a DONE handshake, the server (reference).
 *
 *   server [PORT [OUTPUT]]
 *
 * Receives numbered DATA blocks (wire.h), writes each one exactly once and in order, and
 * acknowledges it. When the client says DONE | n and all n blocks are written and OUTPUT is
 * closed, answers DONE | n, prints "File received successfully.", and stays one more second
 * to answer the DONE again in case its first answer was lost. Then it exits 0.
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

struct receiver {
    int sock;
    struct sockaddr_in client;  /* the one peer we serve, set by its first valid datagram */
    int started;                /* has that first datagram arrived? */
};

static int same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* Waits until `deadline_us` for a valid datagram from our client. Returns 1 with its kind,
 * number and length stored, 0 when the deadline passed, or -1 with errno set. Datagrams that
 * are malformed or come from anyone else are skipped: they are not part of this file. */
static int receive_packet(struct receiver *rx, char *packet, int64_t deadline_us,
                          enum packet_kind *kind, uint32_t *number, size_t *length)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t got;
        int ready = wait_readable(rx->sock, deadline_us);

        if (ready <= 0)
            return ready;
        /* MSG_DONTWAIT: poll() said a datagram is there, and if it is gone after all we go
         * back to waiting with the deadline instead of blocking past it. MSG_TRUNC: return
         * the real length of a datagram too long for `packet`, so that decoding rejects it
         * rather than taking its first PACKET_MAX bytes for a block. */
        got = recvfrom(rx->sock, packet, PACKET_MAX, MSG_DONTWAIT | MSG_TRUNC,
                       (struct sockaddr *)&from, &from_len);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -1;
        }
        *kind = packet_decode(packet, (size_t)got, number);
        if (*kind == PACKET_INVALID || (rx->started && !same_peer(&from, &rx->client)))
            continue;
        if (!rx->started) {
            rx->client = from;
            rx->started = 1;
        }
        *length = (size_t)got;
        return 1;
    }
}

static int answer(struct receiver *rx, enum packet_kind kind, uint32_t number)
{
    char packet[HEADER_LEN];
    size_t length = packet_encode(packet, kind, number, NULL, 0);
    ssize_t sent;

    do {
        sent = sendto(rx->sock, packet, length, 0, (const struct sockaddr *)&rx->client,
                      sizeof rx->client);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0)
        perror("server: sendto");
    return sent < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, DEFAULT_OUTPUT);
    struct receiver rx = { .sock = -1 };
    struct sockaddr_in address = { 0 };
    char packet[PACKET_MAX];
    FILE *output = NULL;
    uint32_t written = 0;     /* blocks 0 .. written - 1 are in OUTPUT; `written` comes next */
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
    address.sin_family = AF_INET;
    address.sin_addr = args.host;          /* INADDR_ANY: every interface of this machine */
    address.sin_port = htons(args.port);
    if (bind(rx.sock, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }
    output = fopen(args.path, "wb");
    if (output == NULL) {
        fprintf(stderr, "server: cannot create %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }

    /* Until the client's DONE finds every block written. The first datagram may take as long
     * as it likes; after that, a client silent for SILENCE_LIMIT_US is gone. */
    for (;;) {
        int64_t deadline = rx.started ? monotonic_us() + SILENCE_LIMIT_US : NO_DEADLINE;

        ready = receive_packet(&rx, packet, deadline, &kind, &number, &length);
        if (ready < 0) {
            perror("server: recvfrom");
            goto cleanup;
        }
        if (ready == 0) {
            fprintf(stderr, "server: nothing from the client for %d s after block %u: "
                            "giving up\n", SILENCE_LIMIT_US / US_PER_S, (unsigned)written);
            goto cleanup;
        }
        if (kind == PACKET_DATA && number == written) {
            size_t block = length - HEADER_LEN;
            if (fwrite(packet + HEADER_LEN, 1, block, output) != block) {
                fprintf(stderr, "server: cannot write %s: %s\n", args.path, strerror(errno));
                goto cleanup;
            }
            written++;
            if (answer(&rx, PACKET_ACK, number) < 0)
                goto cleanup;
        } else if (kind == PACKET_DATA && number < written) {
            /* A duplicate, or a retransmission because our ACK was lost: written already,
             * never again. Acknowledge it again so that the client can go on. */
            if (answer(&rx, PACKET_ACK, number) < 0)
                goto cleanup;
        } else if (kind == PACKET_DONE && number == written) {
            break;
        }
        /* Anything else (a block from the future, an early DONE, a stray ACK) says nothing
         * we can act on; the client's retransmission will bring what we need. */
    }

    /* fclose() writes what stdio still buffers: only its success means the file is whole,
     * and only then may we tell the client so. */
    if (fclose(output) != 0) {
        output = NULL;
        fprintf(stderr, "server: cannot write %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }
    output = NULL;
    if (answer(&rx, PACKET_DONE, written) < 0)
        goto cleanup;
    printf("File received successfully.\n");

    /* Our DONE may be lost like any datagram, and the client, not knowing, will send its DONE
     * again. Had we exited, nobody would answer and it would give up on a file that arrived
     * whole. So we stay a while and answer every repeated DONE. */
    linger_end = monotonic_us() + LINGER_US;
    for (;;) {
        ready = receive_packet(&rx, packet, linger_end, &kind, &number, &length);
        if (ready < 0) {
            perror("server: recvfrom");
            goto cleanup;
        }
        if (ready == 0)
            break;  /* the second is over */
        if (kind == PACKET_DONE && number == written && answer(&rx, PACKET_DONE, written) < 0)
            goto cleanup;
    }
    status = EXIT_SUCCESS;

cleanup:
    if (output != NULL)
        fclose(output);
    if (rx.sock >= 0)
        close(rx.sock);
    return status;
}
