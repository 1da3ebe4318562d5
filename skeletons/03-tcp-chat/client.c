/*
 * Lab 03 — TCP chat, the client. Read labs/03-tcp-chat/README.md first.
 *
 *   client [HOST [PORT]]
 *
 * Connect to the server, then chat with it line by line, we first: read a line from stdin
 * and send it, then print the server's answer as "Server: <line>". The chat ends when our
 * stdin ends (close the connection) or when the server closes the connection (print
 * "Connection closed by server."). Both end in exit 0.
 *
 * Every step: check the result; on failure say what failed on stderr
 * (perror("client: connect")) and exit 1.
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
#include "lines.h"
#include "stream.h"

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, NULL);  /* given */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a TCP socket; it returns -1 on error (check < 0, not == 0).
     *               See socket(2), ip(7). */
    /* TODO(step 2): connect to args.host, port htons(args.port), and print
     *               "Connected to server.". With no server there, connect() fails with
     *               ECONNREFUSED: perror("client: connect"), exit 1. See connect(2), ip(7). */
    /* TODO(step 3): set up a struct line_reader on the socket (lines.h), then loop:
     *   a. Read a line from stdin with getline(3). If stdin is a terminal (isatty(3)), first
     *      print the prompt "Client: " and fflush(stdout), since it has no '\n'.
     *      getline() returns -1 at the end of input: leave the loop, exit 0 (never ignore
     *      it: the lesson's loop ignored fgets()'s NULL and sent the old line forever).
     *      A last line may lack its '\n': add one. Refuse a line over LINE_MAX_BYTES.
     *   b. send_all() the line with its '\n' (stream.h).
     *   c. line_read() the server's answer. LINE_OK: print "Server: <line>". LINE_EOF: print
     *      "Connection closed by server." and leave the loop: the chat is over, exit 0.
     *      Any other result: say what went wrong on stderr, exit 1. */
    /* TODO(step 4): close the socket (close(2)), free getline()'s buffer, and return
     *               EXIT_SUCCESS when the chat ended normally, EXIT_FAILURE otherwise. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "client: not implemented yet — see the TODOs in client.c\n");
    return EXIT_FAILURE;
}
