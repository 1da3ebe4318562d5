/*
 * Lab 05 — UDP file transfer, the client. Read labs/05-udp-file/README.md first.
 *
 *   client [HOST [PORT [INPUT]]]
 *
 * Send INPUT to the server in datagrams of at most 1024 bytes, then one empty datagram that
 * marks the end of the file, and print "File sent successfully.". Exit 0.
 *
 * Every step: check the result; on failure print what failed on stderr (perror("client:
 * sendto")) and exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"

#define DEFAULT_INPUT "send_file.txt"  /* the lesson's file name */
#define DATAGRAM_MAX 1024     /* the longest datagram we send, in bytes */

int main(int argc, char **argv)
{
    /* given: args.host, args.port, and args.path (INPUT, DEFAULT_INPUT when not given) */
    struct program_args args = parse_client_args(argc, argv, DEFAULT_INPUT);

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): open args.path for reading in binary mode ("rb") BEFORE anything else:
     *               if it is missing, print the path and strerror(errno) on stderr and exit 1
     *               without sending anything. See fopen(3). */
    /* TODO(step 2): create a UDP socket and fill a struct sockaddr_in with the server's
     *               address: sin_addr = args.host (never INADDR_ANY: that is not an address
     *               to send to), sin_port = htons(args.port). See socket(2), ip(7). */
    /* TODO(step 3): read the file in blocks of DATAGRAM_MAX bytes with fread() and send each
     *               block in one sendto() of exactly the bytes read. A short read means the
     *               end of the file, or an error: check ferror(). See fread(3), sendto(2). */
    /* TODO(step 4): send one empty datagram (length 0) as the end-of-file mark, print
     *               "File sent successfully.", close the file and the socket, exit 0. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
