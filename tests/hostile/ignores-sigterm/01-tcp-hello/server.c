/*
 * Hostile submission: binds its port as a server should, then ignores the polite signals and
 * spins. The harness ends programs with SIGKILL, which cannot be ignored.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "args.h"

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(args.port) };
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    volatile unsigned long spins = 0;

    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0
            || listen(listener, 1) < 0) {
        perror("server: listen");
    }
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (;;) {
        spins++;
    }
}
