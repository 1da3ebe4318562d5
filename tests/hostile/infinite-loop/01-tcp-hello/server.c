/*
 * Hostile submission: an infinite loop before the server ever binds its port. The harness
 * gives up waiting for the bind and kills it; the CPU-time limit is there if it did not.
 */
#define _POSIX_C_SOURCE 200809L

#include "args.h"

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    volatile unsigned long spins = args.port;   /* volatile: the loop must really run */

    for (;;) {
        spins++;
    }
}
