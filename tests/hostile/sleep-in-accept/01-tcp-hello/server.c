/*
 * Hostile submission (or a common bug): binds and listens, then waits in accept() forever for
 * a client that never comes. The harness's deadline ends it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(args.port) };
    int listener = socket(AF_INET, SOCK_STREAM, 0);

    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0
            || listen(listener, 1) < 0) {
        perror("server: listen");
        return 1;
    }
    for (;;) {
        int client = accept(listener, NULL, NULL);
        if (client >= 0) {
            close(client);   /* and never answer */
        }
    }
}
