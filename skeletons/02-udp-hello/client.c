/*
 * Lab 02 — UDP hello, the client. Read labs/02-udp-hello/README.md first.
 *
 *   client [HOST [PORT]]
 *
 * Send "Hello from client" to HOST:PORT in one datagram, print the answer, exit 0.
 * UDP may lose the datagram or the answer without a word: wait at most ANSWER_TIMEOUT_S
 * seconds, then say so on stderr and exit 1.
 *
 * Every step: check the result; on failure perror("client: <call>") and exit 1.
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

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, NULL);  /* given: args.host, args.port */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a UDP socket (SOCK_DGRAM; check for -1). See socket(2), udp(7). */
    /* TODO(step 2): fill the server's address: a struct sockaddr_in with sin_family AF_INET,
     *               sin_addr = args.host (never INADDR_ANY: that is not where the server is)
     *               and sin_port = htons(args.port). See ip(7). */
    /* TODO(step 3): sendto() "Hello from client" to that address (no connect() needed), then
     *               print "Hello message sent". See sendto(2). */
    /* TODO(step 4): wait for the answer, ANSWER_TIMEOUT_S seconds at most in all: one
     *               deadline for the whole wait (clock_gettime(2) CLOCK_MONOTONIC), and
     *               poll(2) for the time left before each recvfrom() — a stranger's datagram
     *               must not start the wait again, as an SO_RCVTIMEO would. When the time is
     *               up, say on stderr, in your own words, that no answer came, and exit 1. */
    /* TODO(step 5): recvfrom() the answer into a buffer of REPLY_MAX + 1 bytes, with the
     *               sender's address. Anyone can send to your port: ignore (and keep waiting
     *               after) a datagram whose address or port is not the server's. Put the '\0'
     *               after the bytes received and print "Message from server: <answer>".
     *               See recvfrom(2). */
    /* TODO(step 6): close the socket and return EXIT_SUCCESS. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
