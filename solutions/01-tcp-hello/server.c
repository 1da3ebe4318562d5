/*
 * Lab 01 — TCP hello, the server (reference solution).
 *
 *   server [PORT]
 *
 * Accepts one client, prints its message, answers "Hello from server", and exits.
 * How the server knows the message is complete: TCP has no message boundaries, so the client
 * marks the end of its message by shutting down its sending side; we read until that EOF.
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

#define BACKLOG 1            /* this server serves exactly one client */
#define MESSAGE_MAX 1024     /* the longest message we accept, in bytes */
#define PEER_TIMEOUT_S 5     /* how long a connected client may stay silent */

static const char REPLY[] = "Hello from server";

/* A client that connects and then says nothing must not hold the server forever. */
static int set_receive_timeout(int fd, int seconds)
{
    struct timeval timeout = { .tv_sec = seconds, .tv_usec = 0 };

    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    struct sockaddr_in address = { 0 };
    char message[MESSAGE_MAX + 1];  /* + 1 for the '\0' that recv() does not add */
    int listener = -1;
    int client = -1;
    int reuse = 1;
    int status = EXIT_FAILURE;
    ssize_t length;

    /* Tests read our output through a pipe, where stdout would otherwise be block-buffered
     * and our lines would appear only at exit. Line buffering flushes at every '\n'. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* socket() returns -1 on error; 0 is a valid descriptor (the lesson tests "== 0"). */
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) {
        perror("server: socket");
        goto cleanup;
    }
    /* Without SO_REUSEADDR, a restart within a minute or so fails with "Address already in
     * use": the previous connection still sits in TIME_WAIT on this port. */
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto cleanup;
    }

    address.sin_family = AF_INET;
    address.sin_addr = args.host;          /* INADDR_ANY: every interface of this machine */
    address.sin_port = htons(args.port);   /* ports travel in network byte order */
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }
    if (listen(listener, BACKLOG) < 0) {
        perror("server: listen");
        goto cleanup;
    }

    /* We need no details about the client, so accept() may leave its address out. */
    do {
        client = accept(listener, NULL, NULL);
    } while (client < 0 && errno == EINTR);
    if (client < 0) {
        perror("server: accept");
        goto cleanup;
    }
    if (set_receive_timeout(client, PEER_TIMEOUT_S) < 0) {
        perror("server: setsockopt SO_RCVTIMEO");
        goto cleanup;
    }

    length = recv_until_eof(client, message, MESSAGE_MAX);
    if (length < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            fprintf(stderr, "server: the client sent no complete message within %d s "
                            "(did it shut down its sending side?)\n", PEER_TIMEOUT_S);
        else
            perror("server: recv");
        goto cleanup;
    }
    message[length] = '\0';  /* recv() stores bytes, not a C string */
    printf("Message from client: %s\n", message);

    if (send_all(client, REPLY, strlen(REPLY)) < 0) {
        perror("server: send");
        goto cleanup;
    }
    printf("Hello message sent\n");
    status = EXIT_SUCCESS;

cleanup:
    /* Closing the connection is also how the client learns that our reply is complete. */
    if (client >= 0 && close(client) < 0) {
        perror("server: close");
        status = EXIT_FAILURE;
    }
    if (listener >= 0)
        close(listener);
    return status;
}
