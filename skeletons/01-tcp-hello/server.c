/*
 * Lab 01 — TCP hello, the server. Read labs/01-tcp-hello/README.md first.
 *
 *   server [PORT]
 *
 * Accept one client, print its message, answer "Hello from server", exit 0.
 * The client marks the end of its message by shutting down its sending side, so read the
 * message until EOF (stream.h: recv_until_eof).
 *
 * Every step: check the result; on failure perror("server: <call>") and exit 1.
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

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);  /* given: port in args.port */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a TCP socket. It returns -1 on error (0 is a valid descriptor).
     *               See socket(2), ip(7). */
    /* TODO(step 2): set SO_REUSEADDR on it, so that the server can start again at once on
     *               the same port. See setsockopt(2), socket(7). */
    /* TODO(step 3): bind it to args.port on every interface: a struct sockaddr_in with
     *               sin_family AF_INET, sin_addr = args.host (INADDR_ANY), and
     *               sin_port = htons(args.port). See bind(2), ip(7), htons(3). */
    /* TODO(step 4): listen(BACKLOG), then accept one connection. See listen(2), accept(2). */
    /* TODO(step 5): read the client's message with recv_until_eof() into a buffer of
     *               MESSAGE_MAX + 1 bytes, add the '\0' that recv() does not, and print
     *               "Message from client: <message>". */
    /* TODO(step 6): send "Hello from server" with send_all(), then print "Hello message sent". */
    /* TODO(step 7): close both sockets (close(2)) and return EXIT_SUCCESS. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
