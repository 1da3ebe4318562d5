/*
 * Lab 07 — chat room, the server. Read labs/07-chat-room/README.md first.
 *
 *   server [PORT]
 *
 * One thread serves every client at once. poll(2) says which connections can be read or
 * written; the server does only what can be done at once on each, so that no client can make
 * the others wait. Each client is named guestN (N = 1, 2, ... in order of connection, never
 * reused); each line a client sends reaches every other client as "NAME: line". Commands:
 * /nick NEW, /who, /quit. The server listens on IPv6 and IPv4 at once and runs until SIGINT or
 * SIGTERM: then it closes every connection, frees everything, prints "Chat room closed." and
 * exits 0.
 *
 * Every step: check the result; on failure say what failed on stderr (perror("server: bind"))
 * and exit 1. No thread, no fork: the tests count the server's threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "lines.h"   /* given: a line buffer that never waits (read its header comment) */

#define BACKLOG 128            /* connections the kernel may complete before we accept them */
#define OUTPUT_MAX (64 * 1024) /* bytes that may wait for one client; past that it is dropped */
#define NICK_MAX 16            /* the longest name /nick accepts */

/* TODO(step 3): the state of one client — its socket, its name (guestN, or what /nick set),
 *               where it connected from, its struct line_buffer (lines.h) for the bytes it
 *               sent that are not yet a whole line, and its output queue: the bytes meant
 *               for it that its socket could not take yet (a buffer you grow with realloc(3),
 *               never past OUTPUT_MAX). Keep the clients in an array in order of joining
 *               (/who lists them that way), grown as they come: no fixed limit. */

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);  /* given: args.port */

    setvbuf(stdout, NULL, _IOLBF, 0);  /* given: flush every line at once, even into a pipe */

    /* TODO(step 1): catch SIGINT and SIGTERM with sigaction(2) so that poll() wakes up when
     *               one arrives. The handler may only do async-signal-safe things
     *               (signal-safety(7)): write one byte into a pipe(2) whose read end is in
     *               the poll set (the "self-pipe trick"; make both ends O_NONBLOCK with
     *               fcntl(2)). Use SA_RESTART, so that a printf() is not cut short. */
    /* TODO(step 2): the listening socket, for IPv6 and IPv4 at once: socket(AF_INET6,
     *               SOCK_STREAM, 0); setsockopt IPV6_V6ONLY to 0 (ipv6(7): IPv4 clients then
     *               arrive as ::ffff:a.b.c.d); SO_REUSEADDR (socket(7)); bind to in6addr_any
     *               and htons(args.port); listen(BACKLOG); make it non-blocking (fcntl(2),
     *               O_NONBLOCK) so that accept() never waits. Then print
     *               "Chat room open on port PORT.". */
    /* TODO(step 4): the loop. Build a struct pollfd array: the signal pipe, the listener,
     *               and every client with POLLIN — and POLLOUT only when its output queue
     *               holds bytes (a socket can nearly always be written: POLLOUT always would
     *               wake poll() at once, forever). poll(2) with no timeout; EINTR: again.
     *               The signal pipe is readable: leave the loop (step 9). */
    /* TODO(step 5): the listener is readable: accept(2) every waiting connection until
     *               EAGAIN. Make each one O_NONBLOCK (fcntl(2)), name it guest1, guest2, ...
     *               (a counter that never goes back), print "NAME joined from ADDRESS"
     *               (inet_ntop(3); IN6_IS_ADDR_V4MAPPED tells an IPv4 client), queue
     *               "* you are NAME" for it and "* NAME joined" for every other client.
     *               EMFILE (out of descriptors): stop polling the listener for a while. */
    /* TODO(step 6): a client is readable (POLLIN, POLLHUP or POLLERR): ONE recv(2) into
     *               line_buffer_space(), then line_buffer_take() every whole line:
     *                 - "/nick NEW": NEW is 1..NICK_MAX of A-Za-z0-9_- and in use by nobody:
     *                   everyone gets "* OLD is now NEW", the server prints "OLD is now NEW";
     *                   otherwise the asker alone gets "* name NEW is not available".
     *                 - "/who": the asker gets "* online: A, B, C" (in order of joining).
     *                 - "/quit": as the end of its input.
     *                 - any other "/word": the asker gets "* unknown command /word".
     *                 - any other line: every OTHER client gets "NAME: line".
     *               LINE_TOO_LONG: drop the client. recv() returns 0 (end of its input) or
     *               fails with ECONNRESET: it has left. */
    /* TODO(step 7): queue, never wait. A line for a client is appended to its output queue;
     *               if more than OUTPUT_MAX bytes would then wait, drop the client instead.
     *               After each round, send(2) each queue as far as the socket takes it, with
     *               MSG_NOSIGNAL (a gone client gives EPIPE, not a deadly SIGPIPE), and stop
     *               at EAGAIN: poll() says when to go on (POLLOUT). */
    /* TODO(step 8): remove the clients that left or were dropped only after the round (never
     *               while walking the arrays): print "NAME left" or "NAME dropped: REASON",
     *               tell every other client "* NAME left" or "* NAME dropped", close(2) its
     *               socket, free its memory. */
    /* TODO(step 9): after the loop: close every client and the listener, close the pipe, free
     *               everything, print "Chat room closed." and return EXIT_SUCCESS. */
    (void)args;  /* remove this line once you use args */
    fprintf(stderr, "server: not implemented yet — see the TODOs in server.c\n");
    return EXIT_FAILURE;
}
