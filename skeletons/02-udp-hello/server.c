/*
 * Lab 02 — UDP hello, the server. Read labs/02-udp-hello/README.md first.
 *
 *   server [PORT]
 *
 * Receive one datagram, print it, answer "Hello from server" to the address it came from,
 * exit 0. One recvfrom() returns one whole datagram: there is no end marker to wait for.
 *
 * Every step: check the result; on failure perror("server: <call>") and exit 1.
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

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);  /* given: port in args.port */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a UDP socket (SOCK_DGRAM). It returns -1 on error (0 is a valid
     *               descriptor). See socket(2), udp(7). */
    /* TODO(step 2): set SO_REUSEADDR on it, as every server of the course does.
     *               See setsockopt(2), socket(7). */
    /* TODO(step 3): bind it to args.port on every interface: a struct sockaddr_in with
     *               sin_family AF_INET, sin_addr = args.host (INADDR_ANY), and
     *               sin_port = htons(args.port). See bind(2), ip(7), htons(3). */
    /* TODO(step 4): receive one datagram with recvfrom() into a buffer of MESSAGE_MAX + 1
     *               bytes, asking for at most MESSAGE_MAX, and keep the sender's address it
     *               fills in (a struct sockaddr_in and its socklen_t length). Retry on EINTR.
     *               Put the '\0' after the bytes received (recvfrom's return value), then
     *               print "Message from client: <message>". See recvfrom(2). */
    /* TODO(step 5): sendto() "Hello from server" to the address recvfrom() gave you — not to
     *               an address of your own — then print "Hello message sent". See sendto(2). */
    /* TODO(step 6): close the socket (close(2)) and return EXIT_SUCCESS. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
