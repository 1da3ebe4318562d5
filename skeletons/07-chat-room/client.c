/*
 * Lab 07 — chat room, the client. Read labs/07-chat-room/README.md first.
 *
 *   client [HOST [PORT]]
 *
 * Connect to the chat room at HOST — a name, or a numeric IPv4 or IPv6 address: 127.0.0.1,
 * ::1 and localhost must all work — then do two things at once: send every line typed on
 * stdin, and print every line from the room as it arrives, even while the user is typing.
 * End of stdin: close the connection, exit 0. The server closes the connection: print
 * "Connection closed by server.", exit 0.
 *
 * Every step: check the result; on failure say what failed on stderr and exit 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "stream.h"  /* given: send_all() from lab 01 */

int main(int argc, char **argv)
{
    /* given: HOST as text in args.host_name (a name or an address), the port in args.port */
    struct program_args args = parse_named_client_args(argc, argv);

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): resolve args.host_name with getaddrinfo(3): hints AF_UNSPEC (IPv4 or
     *               IPv6, whatever HOST is) and SOCK_STREAM; the port as a decimal string.
     *               It returns an error code, not -1 and errno: on failure print
     *               gai_strerror(code) on stderr and exit 1. (Leave out AI_ADDRCONFIG: on a
     *               machine whose only IPv6 address is ::1, it hides the IPv6 answers.) */
    /* TODO(step 2): try each address of the list in turn: socket(2) with its family,
     *               connect(2); the first that connects wins, the others are closed.
     *               freeaddrinfo(3) at once. None connected: say why (strerror of the last
     *               errno) and exit 1. Then print "Connected to the chat room.". */
    /* TODO(step 3): loop on poll(2) over stdin and the socket (POLLIN on both; EINTR: again):
     *                 - the socket is readable: recv(2) what is there and write(2) it to
     *                   stdout as it is; 0 means the server closed: print
     *                   "Connection closed by server." and leave the loop, exit 0.
     *                 - stdin is readable: read(2) what is there — not fgets(3): stdio reads
     *                   ahead into its own buffer, where poll() cannot see the lines — and
     *                   send_all() it; 0 is the end of input: leave the loop, exit 0 (a last
     *                   line without '\n' still needs one). */
    /* TODO(step 4): close the socket and return EXIT_SUCCESS (EXIT_FAILURE if something
     *               failed). */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
