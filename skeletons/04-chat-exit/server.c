/*
 * Lab 04 — chat with exit, the server. Read labs/04-chat-exit/README.md first.
 * Start from your lab 03: copy your lines.h, server.c and client.c over these files, then
 * do step 7 below (it is the same step 7 in client.c).
 *
 *   server [PORT]
 *
 * Accept one client, then chat with it line by line, the client first: print each of its
 * lines as "Client: <line>", then read an answer from stdin and send it. The chat ends when
 * the client closes the connection (print "Connection closed by client.") or when our stdin
 * ends (close the connection). Both end in exit 0.
 * New in lab 04: a line that is exactly "exit", typed on either side, ends the chat too.
 *
 * Every step: check the result; on failure say what failed on stderr (perror("server: bind"))
 * and exit 1.
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

#define BACKLOG 1            /* this server chats with exactly one client */

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);  /* given: port in args.port */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): create a TCP socket. It returns -1 on error; 0 is a valid descriptor, so
     *               check for < 0 (the lesson's "== 0" misses every failure).
     *               See socket(2), ip(7). */
    /* TODO(step 2): set SO_REUSEADDR on it, so that the server can start again at once on
     *               the same port. See setsockopt(2), socket(7). */
    /* TODO(step 3): bind it to args.port on every interface (sin_addr = args.host,
     *               sin_port = htons(args.port)), listen(BACKLOG), and print
     *               "Waiting for a connection...". See bind(2), listen(2), ip(7). */
    /* TODO(step 4): accept one connection (retry on EINTR), close the listening socket (we
     *               chat with one client only), print "Connection established with client.".
     *               See accept(2). */
    /* TODO(step 5): set up a struct line_reader on the connection (lines.h), then loop:
     *   a. line_read() the client's line. LINE_OK: print "Client: <line>". LINE_EOF: print
     *      "Connection closed by client." and leave the loop: the chat is over, exit 0.
     *      Any other result: say what went wrong on stderr, exit 1.
     *   b. Read our answer from stdin with getline(3). If stdin is a terminal (isatty(3)),
     *      first print the prompt "Server: " and fflush(stdout), since it has no '\n'.
     *      getline() returns -1 at the end of input: leave the loop, exit 0 (never ignore
     *      it: the lesson's loop ignored fgets()'s NULL and sent the old line forever).
     *      A last line may lack its '\n': add one. Refuse a line over LINE_MAX_BYTES.
     *   c. send_all() the line with its '\n' (stream.h). */
    /* TODO(step 6): close the connection (close(2)), free getline()'s buffer, and return
     *               EXIT_SUCCESS when the chat ended normally, EXIT_FAILURE otherwise. */
    /* TODO(step 7): the exit rule. When the client's line is exactly "exit" (strcmp(3)),
     *               do as if it had closed the connection: print "Connection closed by
     *               client." instead of "Client: exit", and end the chat, exit 0. When our
     *               user types exactly "exit", send it (so that the client knows), then end
     *               the chat: close, exit 0. "exited", "exit now" and " exit" are ordinary
     *               messages: strncmp(line, "exit", 4) would end the chat on all three. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
