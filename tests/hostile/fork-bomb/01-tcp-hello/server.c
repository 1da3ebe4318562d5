/*
 * Hostile submission: a fork bomb. Every process forks forever, and keeps trying when fork()
 * fails. The sandbox's process limit (per user, and this run's user is its own) stops it, and
 * the program's own PID namespace ends every copy when the test kills the program.
 */
#define _POSIX_C_SOURCE 200809L

#include <unistd.h>

#include "args.h"

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);

    (void)args;
    for (;;) {
        (void)fork();
    }
}
