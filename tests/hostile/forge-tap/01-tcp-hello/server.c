/*
 * Hostile submission: forges Bats' results. Bats reads TAP ("ok 3 [hello] ...") on descriptor
 * 3 and from its own output; a program that writes such lines must earn nothing by it. The
 * harness starts programs with descriptors 0-2 only, and captures their output apart.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <unistd.h>

#include "args.h"

#define TESTS 30

static void forge(int fd)
{
    dprintf(fd, "1..%d\n", TESTS);
    for (int i = 1; i <= TESTS; i++) {
        dprintf(fd, "ok %d [hello] forged by the program under test\n", i);
    }
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);

    (void)args;
    for (int fd = 3; fd < 16; fd++) {
        forge(fd);
    }
    forge(STDOUT_FILENO);
    forge(STDERR_FILENO);
    return 0;
}
