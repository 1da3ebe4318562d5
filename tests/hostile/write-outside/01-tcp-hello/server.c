/*
 * Hostile submission: writes everywhere it can think of: the parent of its working folder,
 * its own sources, the kit (found through SOCKLAB_REF), the build cache, /tmp, /dev/shm. Only
 * its working folder is writable in the sandbox; tests/test_hostile.py checks each place.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "args.h"

#define MARK "socklab-hostile-escaped"
#define PATH_MAX_LEN 4096

static void try_write(const char *base, const char *rest)
{
    char path[PATH_MAX_LEN];
    FILE *file;

    if (base == NULL) {
        return;
    }
    snprintf(path, sizeof path, "%s%s", base, rest);
    file = fopen(path, "w");
    if (file == NULL) {
        perror(path);
        return;
    }
    fputs("written from inside the sandbox\n", file);
    fclose(file);
    fprintf(stderr, "wrote %s\n", path);
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);

    (void)args;
    try_write(".", "/inside-" MARK);                           /* allowed: its scratch folder */
    try_write("..", "/" MARK);
    try_write(getenv("SOCKLAB_IMPL"), "/" MARK);
    try_write(getenv("SOCKLAB_IMPL"), "/server.c");
    try_write(getenv("SOCKLAB_IMPL"), "/../" MARK);
    try_write(getenv("SOCKLAB_REF"), "/../../" MARK);          /* the kit's root */
    try_write(getenv("SOCKLAB_REF"), "/server.c");
    try_write(getenv("SOCKLAB_BUILD_DIR"), "/" MARK);
    try_write("/tmp", "/" MARK);
    try_write("/dev/shm", "/" MARK);
    try_write("/", MARK);
    return 0;
}
