/*
 * Lab 02 — UDP hello, the server (reference solution).
 *
 *   server [PORT]
 *
 * Receives one datagram, prints it, answers "Hello from server" to whoever sent it, and exits.
 * UDP keeps message boundaries: one recvfrom() returns exactly one datagram, so unlike lab 01
 * there is no end-of-message marker to wait for. There is no connection either: the only way
 * to know where to send the answer is the source address that recvfrom() reports.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"

#define MESSAGE_MAX 1024     /* the longest message we accept, in bytes */

static const char REPLY[] = "Hello from server";

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    struct sockaddr_in address = { 0 };
    struct sockaddr_in client = { 0 };
    socklen_t client_len = sizeof client;
    char message[MESSAGE_MAX + 1];  /* + 1 for the '\0' that recvfrom() does not add */
    int sock = -1;
    int reuse = 1;
    int status = EXIT_FAILURE;
    ssize_t length;
    ssize_t sent;

    /* Tests read our output through a pipe, where stdout would otherwise be block-buffered
     * and our lines would appear only at exit. Line buffering flushes at every '\n'. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* socket() returns -1 on error; 0 is a valid descriptor (the lesson tests "== 0"). */
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0) {
        perror("server: socket");
        goto cleanup;
    }
    /* UDP leaves no TIME_WAIT behind, so a restart works without SO_REUSEADDR; the contract
     * asks every server for it all the same, so that all our servers restart alike. (For UDP
     * on Linux it also lets another socket that sets it share the port: see socket(7).) */
    if (setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto cleanup;
    }

    address.sin_family = AF_INET;
    address.sin_addr = args.host;          /* INADDR_ANY: every interface of this machine */
    address.sin_port = htons(args.port);   /* ports travel in network byte order */
    if (bind(sock, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }

    /* MSG_TRUNC makes recvfrom() return the datagram's real length even when it is longer
     * than our buffer: without it, the kernel cuts a long datagram to fit and says nothing. */
    do {
        client_len = sizeof client;
        length = recvfrom(sock, message, MESSAGE_MAX, MSG_TRUNC,
                          (struct sockaddr *)&client, &client_len);
    } while (length < 0 && errno == EINTR);
    if (length < 0) {
        perror("server: recvfrom");
        goto cleanup;
    }
    if (length > MESSAGE_MAX) {
        fprintf(stderr, "server: a datagram of %zd bytes is longer than the %d we accept\n",
                length, MESSAGE_MAX);
        goto cleanup;
    }
    message[length] = '\0';  /* a datagram is bytes, not a C string: terminate it ourselves */
    printf("Message from client: %s\n", message);

    /* Answer the address the datagram came from, as recvfrom() reported it: the client may
     * be on another machine, or on another address of this one, and its port was chosen by
     * its kernel. A UDP datagram is sent whole or not at all, so there is no loop here. */
    do {
        sent = sendto(sock, REPLY, strlen(REPLY), 0, (struct sockaddr *)&client, client_len);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        perror("server: sendto");
        goto cleanup;
    }
    printf("Hello message sent\n");
    status = EXIT_SUCCESS;

cleanup:
    if (sock >= 0 && close(sock) < 0) {
        perror("server: close");
        status = EXIT_FAILURE;
    }
    return status;
}
