/*
 * Lab 06 — reliable file transfer over UDP with a DONE handshake, the server.
 * Read labs/06-udp-done/README.md first; write wire.h (steps A and B) before this file.
 *
 *   server [PORT [OUTPUT]]
 *
 * Receive numbered DATA blocks, write each one exactly once and in order, acknowledge it.
 * When the client says DONE | n and all n blocks are written and OUTPUT is closed, answer
 * DONE | n, print "File received successfully.", stay one more second to answer a repeated
 * DONE, then exit 0.
 *
 * Every step: check the result; on failure print what failed on stderr and exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "deadline.h"
#include "wire.h"

#define DEFAULT_OUTPUT "received_file.txt"  /* the lesson's file name */
#define SILENCE_LIMIT_US (5 * US_PER_S)  /* a started client silent this long has given up */
#define LINGER_US (1 * US_PER_S)         /* how long we stay to answer a repeated DONE */

int main(int argc, char **argv)
{
    /* given: args.port, and args.path (OUTPUT, DEFAULT_OUTPUT when not given) */
    struct program_args args = parse_server_args(argc, argv, DEFAULT_OUTPUT);

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): as in lab 05: a UDP socket with SO_REUSEADDR, bound to args.port on
     *               every interface; then open args.path with fopen(..., "wb") (on failure:
     *               the path and strerror(errno) on stderr, exit 1). See socket(2), bind(2). */
    /* TODO(step 2): receive datagrams with recvfrom() into a buffer of PACKET_MAX bytes and
     *               decode them with packet_decode(); ignore PACKET_INVALID. Remember the
     *               address of the first valid datagram: that is your client; ignore datagrams
     *               from anyone else. Pass MSG_TRUNC, so that a datagram longer than the
     *               buffer shows its real length and is rejected. See recvfrom(2), udp(7). */
    /* TODO(step 3): keep `written`, the number of blocks already in the file. DATA with
     *               number == written: fwrite() its len - HEADER_LEN bytes (check the count),
     *               written++, answer ACK | number. DATA with number < written is a duplicate
     *               or a retransmission: do NOT write it again, but answer ACK | number again
     *               (your first ACK may have been lost). Any other DATA: ignore.
     *               Send answers with sendto() to the client's address. See sendto(2). */
    /* TODO(step 4): once the client has started, give up (stderr, exit 1) after
     *               SILENCE_LIMIT_US without a datagram from it: wait with wait_readable()
     *               (deadline.h) and a deadline, then recvfrom() with MSG_DONTWAIT. */
    /* TODO(step 5): DONE | n with n == written: fclose() the file and check the result, and
     *               only then answer DONE | n and print "File received successfully.".
     *               A DONE with any other n: ignore it. */
    /* TODO(step 6): linger: for LINGER_US more, answer every repeated DONE | n with DONE | n
     *               (the client sends it again when your answer was lost). Then close the
     *               socket and exit 0. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
