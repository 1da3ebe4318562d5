/*
 * Hostile submission: 1 GiB on standard output, as fast as it can. The harness keeps the first
 * MiB of each stream and drains the rest; the test's deadline ends it if it is not done.
 */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <unistd.h>

#include "args.h"

#define CHUNK (1 << 20)
#define CHUNKS 1024

static char chunk[CHUNK];

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);

    (void)args;
    memset(chunk, 'y', sizeof chunk);
    for (size_t at = 79; at < sizeof chunk; at += 80) {
        chunk[at] = '\n';
    }
    for (int i = 0; i < CHUNKS; i++) {
        size_t done = 0;
        while (done < sizeof chunk) {
            ssize_t wrote = write(STDOUT_FILENO, chunk + done, sizeof chunk - done);
            if (wrote < 0) {
                return 1;
            }
            done += (size_t)wrote;
        }
    }
    return 0;
}
