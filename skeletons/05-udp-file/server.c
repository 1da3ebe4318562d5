/*
 * Lab 05 — UDP file transfer, the server. Read labs/05-udp-file/README.md first.
 *
 *   server [PORT [OUTPUT]]
 *
 * Write the datagrams you receive to OUTPUT, in the order they arrive, until an empty
 * datagram marks the end of the file; then print "File received successfully." and exit 0.
 *
 * Every step: check the result; on failure print what failed on stderr (perror("server: bind"))
 * and exit 1.
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

int main(int argc, char **argv)
{
    /* given: args.port, and args.path (OUTPUT, DEFAULT_OUTPUT when not given) */
    struct program_args args = parse_server_args(argc, argv, DEFAULT_OUTPUT);

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a UDP socket (SOCK_DGRAM; -1 means an error) and set SO_REUSEADDR
     *               on it. See socket(2), udp(7), setsockopt(2), socket(7). */
    /* TODO(step 2): bind it to args.port on every interface (sin_addr = args.host, which is
     *               INADDR_ANY; sin_port = htons(args.port)). See bind(2), ip(7). */
    /* TODO(step 3): open args.path for writing in binary mode ("wb"). If that fails, print
     *               the path and strerror(errno) on stderr and exit 1. See fopen(3). */
    /* TODO(step 4): receive datagrams with recvfrom() into a buffer of DATAGRAM_MAX bytes and
     *               write each one to the file with fwrite() — all of its bytes, NULs too:
     *               the length is what recvfrom() returned, never strlen(). Check that fwrite()
     *               wrote them all. See recvfrom(2), fwrite(3). */
    /* TODO(step 5): stop at the first empty datagram (recvfrom() returns 0): that is the end
     *               of the file, whatever the data looked like before it. Once the first
     *               datagram has arrived, give up (stderr, exit 1) after IDLE_TIMEOUT_S of
     *               silence: set SO_RCVTIMEO, and recvfrom() fails with EAGAIN. */
    /* TODO(step 6): fclose() the file and check its result (it writes what is still
     *               buffered), print "File received successfully.", close the socket, exit 0. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
