/*
 * Lab 01 — TCP hello, the client (reference solution).
 *
 *   client [HOST [PORT]]
 *
 * Connects to the server, sends "Hello from client", prints the server's answer, and exits.
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
#include "stream.h"

#define REPLY_MAX 1024       /* the longest answer we accept, in bytes */
#define PEER_TIMEOUT_S 2     /* how long we wait for the answer: the contract's figure for UDP */

static const char MESSAGE[] = "Hello from client";

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, NULL);
    struct sockaddr_in server = { 0 };
    struct timeval timeout = { .tv_sec = PEER_TIMEOUT_S, .tv_usec = 0 };
    char reply[REPLY_MAX + 1];  /* + 1 for the '\0' that recv() does not add */
    int sock = -1;
    int status = EXIT_FAILURE;
    ssize_t length;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0) {
        perror("client: socket");
        goto cleanup;
    }
    /* A server that accepts and never answers must not keep us waiting forever. */
    if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) {
        perror("client: setsockopt SO_RCVTIMEO");
        goto cleanup;
    }

    server.sin_family = AF_INET;
    server.sin_addr = args.host;
    server.sin_port = htons(args.port);
    /* With no server on that port, connect() fails at once with ECONNREFUSED. */
    if (connect(sock, (struct sockaddr *)&server, sizeof server) < 0) {
        perror("client: connect");
        goto cleanup;
    }

    if (send_all(sock, MESSAGE, strlen(MESSAGE)) < 0) {
        perror("client: send");
        goto cleanup;
    }
    /* TCP has no message boundaries: shutting down our sending side is how the server knows
     * that the message is complete (its recv() returns 0). We can still receive. */
    if (shutdown(sock, SHUT_WR) < 0) {
        perror("client: shutdown");
        goto cleanup;
    }
    printf("Hello message sent\n");

    length = recv_until_eof(sock, reply, REPLY_MAX);
    if (length < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            fprintf(stderr, "client: no answer from the server within %d s\n", PEER_TIMEOUT_S);
        else
            perror("client: recv");
        goto cleanup;
    }
    reply[length] = '\0';
    printf("Message from server: %s\n", reply);
    status = EXIT_SUCCESS;

cleanup:
    if (sock >= 0 && close(sock) < 0) {
        perror("client: close");
        status = EXIT_FAILURE;
    }
    return status;
}
