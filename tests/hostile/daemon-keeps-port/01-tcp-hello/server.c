/*
 * Hostile submission: binds the port, then leaves a daemon behind that keeps it (double fork,
 * new session, standard streams closed: out of the harness's process group and pipes) while
 * the program itself exits 0. The program's PID namespace ends the daemon with it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
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
    if (fork() == 0) {
        if (setsid() < 0 || fork() != 0) {
            _exit(0);
        }
        close(STDIN_FILENO);
        close(STDOUT_FILENO);
        close(STDERR_FILENO);
        for (;;) {
            pause();   /* holds the listening socket, never accepts */
        }
    }
    sleep(1);   /* the daemon is on its way */
    return 0;
}
