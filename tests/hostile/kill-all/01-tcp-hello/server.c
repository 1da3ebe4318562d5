/*
 * Hostile submission: kill(-1, SIGKILL) signals every process the caller may signal. In the
 * sandbox that is nothing outside its own PID namespace; outside, it would be every process
 * of the same user (and, as root, the whole machine). It also aims at its parent and at PID 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "args.h"

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);

    (void)args;
    if (kill(-1, SIGKILL) < 0) {
        perror("server: kill(-1)");
    }
    if (kill(getppid(), SIGKILL) < 0) {
        perror("server: kill(parent)");
    }
    if (kill(1, SIGKILL) < 0) {
        perror("server: kill(1)");
    }
    puts("Message from client: Hello from client");
    puts("Hello message sent");
    return 0;
}
