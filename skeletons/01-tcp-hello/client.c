/*
 * Lab 01 — TCP hello, the client. Read labs/01-tcp-hello/README.md first.
 *
 *   client [HOST [PORT]]
 *
 * Connect to the server, send "Hello from client", print the answer, exit 0.
 *
 * Every step: check the result; on failure perror("client: <call>") and exit 1.
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

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, NULL);  /* given: args.host, args.port */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a TCP socket (check for -1). See socket(2). */
    /* TODO(step 2): connect to args.host:args.port — a struct sockaddr_in with sin_family
     *               AF_INET, sin_addr = args.host, sin_port = htons(args.port). With no
     *               server there, connect() fails: report it with perror and exit 1.
     *               See connect(2), ip(7). */
    /* TODO(step 3): send "Hello from client" with send_all(), then shut down the sending side
     *               (shutdown(sock, SHUT_WR)) so that the server sees the end of the message.
     *               Print "Hello message sent". See shutdown(2). */
    /* TODO(step 4): give the socket a receive timeout of PEER_TIMEOUT_S seconds, so that a
     *               server that accepts and never answers cannot keep us waiting forever:
     *               setsockopt() with SOL_SOCKET, SO_RCVTIMEO and a struct timeval. See
     *               setsockopt(2), socket(7) (SO_RCVTIMEO), and the README's "Not waiting
     *               forever". */
    /* TODO(step 5): read the answer with recv_until_eof() into a buffer of REPLY_MAX + 1
     *               bytes. If it fails with EAGAIN or EWOULDBLOCK, the time is up: say so on
     *               stderr ("no answer from the server within 2 s", not perror) and exit 1.
     *               Add the '\0', print "Message from server: <answer>". See recv(2). */
    /* TODO(step 6): close the socket and return EXIT_SUCCESS. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
