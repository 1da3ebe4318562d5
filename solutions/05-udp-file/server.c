/*
 * Lab 05 — UDP file transfer, the server (reference solution).
 *
 *   server [PORT [OUTPUT]]
 *
 * Writes the datagrams it receives to OUTPUT, in the order they arrive, until an empty
 * datagram marks the end of the file; then prints "File received successfully." and exits.
 * UDP promises nothing: a datagram may be lost, duplicated or reordered and this server would
 * not know. On one machine with small files that does not happen; lab 06 deals with it.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "args.h"

#define DEFAULT_OUTPUT "received_file.txt"  /* the lesson's file name */
#define DATAGRAM_MAX 1024     /* the longest datagram the client may send, in bytes */
#define IDLE_TIMEOUT_S 5      /* how long a client that has started may stay silent */

/* Waits for the first datagram for as long as it takes, as any server waits for its first
 * client; after that, IDLE_TIMEOUT_S of silence means the end mark will never come. */
static int set_receive_timeout(int fd, int seconds)
{
    struct timeval timeout = { .tv_sec = seconds, .tv_usec = 0 };

    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

static int same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, DEFAULT_OUTPUT);
    struct sockaddr_in address = { 0 };
    struct sockaddr_in client = { 0 };
    char datagram[DATAGRAM_MAX];
    FILE *output = NULL;
    int sock = -1;
    int reuse = 1;
    int started = 0;          /* has the first datagram arrived? */
    int status = EXIT_FAILURE;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0) {
        perror("server: socket");
        goto cleanup;
    }
    if (setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto cleanup;
    }
    address.sin_family = AF_INET;
    address.sin_addr = args.host;          /* INADDR_ANY: every interface of this machine */
    address.sin_port = htons(args.port);
    if (bind(sock, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }

    /* "wb": binary mode says what we mean (on Linux it changes nothing) and "w" truncates
     * whatever an earlier run left there. */
    output = fopen(args.path, "wb");
    if (output == NULL) {
        fprintf(stderr, "server: cannot create %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }

    for (;;) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        /* MSG_TRUNC makes recvfrom() return the datagram's real length even when it did not
         * fit: without it, the bytes past DATAGRAM_MAX would vanish without a word. */
        ssize_t length = recvfrom(sock, datagram, sizeof datagram, MSG_TRUNC,
                                  (struct sockaddr *)&from, &from_len);

        if (length < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                fprintf(stderr, "server: no datagram for %d s and no end-of-file mark (an "
                                "empty datagram): giving up\n", IDLE_TIMEOUT_S);
            else
                perror("server: recvfrom");
            goto cleanup;
        }
        if (!started) {
            client = from;
            started = 1;
            if (set_receive_timeout(sock, IDLE_TIMEOUT_S) < 0) {
                perror("server: setsockopt SO_RCVTIMEO");
                goto cleanup;
            }
        } else if (!same_peer(&from, &client)) {
            continue;  /* a stray datagram from another program is not part of this file */
        }
        if (length == 0)
            break;     /* the end-of-file mark */
        if ((size_t)length > sizeof datagram) {
            fprintf(stderr, "server: a datagram of %zd bytes; the limit is %d\n",
                    length, DATAGRAM_MAX);
            goto cleanup;
        }
        /* fwrite() returns how many bytes it took; fewer means an error (a full disk). */
        if (fwrite(datagram, 1, (size_t)length, output) != (size_t)length) {
            fprintf(stderr, "server: cannot write %s: %s\n", args.path, strerror(errno));
            goto cleanup;
        }
    }

    /* fclose() writes what stdio still buffers: only its success means the file is whole. */
    if (fclose(output) != 0) {
        output = NULL;
        fprintf(stderr, "server: cannot write %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }
    output = NULL;
    printf("File received successfully.\n");
    status = EXIT_SUCCESS;

cleanup:
    if (output != NULL)
        fclose(output);
    if (sock >= 0)
        close(sock);
    return status;
}
