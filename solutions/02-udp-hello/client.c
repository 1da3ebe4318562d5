/*
 * Lab 02 — UDP hello, the client (reference solution).
 *
 *   client [HOST [PORT]]
 *
 * Sends "Hello from client" to the server in one datagram and prints the answer.
 * UDP promises nothing: our datagram or the answer may be lost, and nobody tells us. So we
 * wait for the answer for a limited time only, then give up with a message and exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "args.h"

#define REPLY_MAX 1024         /* the longest answer we accept, in bytes */
#define ANSWER_TIMEOUT_S 2     /* the contract: give up after 2 s without an answer */
#define MS_PER_S 1000
#define NS_PER_MS 1000000L

static const char MESSAGE[] = "Hello from client";

/* Milliseconds on a clock that never jumps (unlike the time of day). */
static long long monotonic_ms(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * MS_PER_S + now.tv_nsec / NS_PER_MS;
}

/* Anyone can send a datagram to our port: only one that comes from the address and port we
 * sent to is the server's answer. */
static bool same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_family == b->sin_family && a->sin_port == b->sin_port
           && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/*
 * Waits until `deadline_ms` for a datagram from `server`, ignoring any other.
 * Returns its length (more than `cap` when the datagram was cut to fit), or -1 with errno
 * set: ETIMEDOUT when the deadline passed first.
 */
static ssize_t receive_from(int sock, const struct sockaddr_in *server, char *buf, size_t cap,
                            long long deadline_ms)
{
    for (;;) {
        struct pollfd ready = { .fd = sock, .events = POLLIN };
        struct sockaddr_in from = { 0 };
        socklen_t from_len = sizeof from;
        long long left_ms = deadline_ms - monotonic_ms();
        int events;
        ssize_t length;

        if (left_ms <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        /* One deadline for the whole wait, not one timeout per datagram: a stream of stray
         * datagrams must not keep us waiting forever. */
        events = poll(&ready, 1, (int)left_ms);
        if (events < 0 && errno != EINTR)
            return -1;
        if (events <= 0)
            continue;  /* interrupted, or the time is up: the check above decides */

        /* MSG_DONTWAIT: poll() said a datagram is there, but should it be gone by now we
         * want to come back here, not block without a deadline. MSG_TRUNC: report the real
         * length of a datagram too long for `buf`, which the kernel would cut silently. */
        length = recvfrom(sock, buf, cap, MSG_DONTWAIT | MSG_TRUNC,
                          (struct sockaddr *)&from, &from_len);
        if (length < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -1;
        }
        if (!same_endpoint(&from, server))
            continue;  /* a stray datagram from someone else: not our answer */
        return length;
    }
}

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, NULL);
    struct sockaddr_in server = { 0 };
    char reply[REPLY_MAX + 1];  /* + 1 for the '\0' that recvfrom() does not add */
    char host[INET_ADDRSTRLEN];
    int sock = -1;
    int status = EXIT_FAILURE;
    ssize_t sent;
    ssize_t length;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0) {
        perror("client: socket");
        goto cleanup;
    }

    /* The destination is HOST. The lesson sends to INADDR_ANY, which Linux happens to deliver
     * to this machine: it "works" only as long as the server runs here. */
    server.sin_family = AF_INET;
    server.sin_addr = args.host;
    server.sin_port = htons(args.port);

    /* No connect(): the first sendto() gives the socket a free port of its own, which is the
     * source address the server will answer. A datagram is sent whole or not at all. */
    do {
        sent = sendto(sock, MESSAGE, strlen(MESSAGE), 0, (struct sockaddr *)&server,
                      sizeof server);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        perror("client: sendto");
        goto cleanup;
    }
    printf("Hello message sent\n");

    length = receive_from(sock, &server, reply, REPLY_MAX,
                          monotonic_ms() + (long long)ANSWER_TIMEOUT_S * MS_PER_S);
    if (length < 0 && errno == ETIMEDOUT) {
        /* No server there, or a datagram lost on the way: UDP cannot tell which. */
        inet_ntop(AF_INET, &args.host, host, sizeof host);
        fprintf(stderr, "client: no answer from %s:%u within %d s\n", host,
                (unsigned)args.port, ANSWER_TIMEOUT_S);
        goto cleanup;
    }
    if (length < 0) {
        perror("client: recvfrom");
        goto cleanup;
    }
    if (length > REPLY_MAX) {
        fprintf(stderr, "client: an answer of %zd bytes is longer than the %d we accept\n",
                length, REPLY_MAX);
        goto cleanup;
    }
    reply[length] = '\0';  /* a datagram is bytes, not a C string: terminate it ourselves */
    printf("Message from server: %s\n", reply);
    status = EXIT_SUCCESS;

cleanup:
    if (sock >= 0 && close(sock) < 0) {
        perror("client: close");
        status = EXIT_FAILURE;
    }
    return status;
}
