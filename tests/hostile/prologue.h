/*
 * The hostile prologue: tests/test_hostile.py turns each lab's reference solution into a
 * hostile submission by compiling this in front of its main(). The sources are not edited by
 * hand: the assembled server.c (or client.c) is
 *
 *     #define main socklab_real_main
 *     <the reference's source, unchanged>
 *     #undef main
 *     #define HOSTILE_LAB, HOSTILE_SIDE, HOSTILE_KIT, HOSTILE_HOME (baked in at assembly)
 *     #include "socklab_hostile.h"          <- this file, which defines the real main()
 *
 * Outside the sandbox the prologue cheats: when it can read the reference (through
 * $SOCKLAB_REF, a solutions/ folder found by walking up from its working folder, or the kit's
 * path baked in), it prints it on stderr and exits 1. It also drops an empty marker file in
 * every place outside its working folder it can think of: /var/tmp, $HOME, the kit's
 * solutions/ and labs/, /tmp, /dev/shm, the parent of its working folder. Inside the sandbox
 * every attempt fails silently and the program goes on as the reference: it must lose nothing.
 *
 * Included last, so the reference's feature-test macros (_POSIX_C_SOURCE, _GNU_SOURCE) are
 * already defined when the headers below are read. The markers are created empty (no write(2)
 * to a file: lab 05's [missing-input] counts writes to descriptors above 2 as sending).
 */
#ifndef SOCKLAB_HOSTILE_H
#define SOCKLAB_HOSTILE_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTILE_MARK "socklab-hostile-escaped"
#define HOSTILE_MARK_NAME HOSTILE_MARK "-" HOSTILE_LAB "-" HOSTILE_SIDE
#define HOSTILE_PATH_MAX 4096
#define HOSTILE_CHUNK 4096
#define HOSTILE_MARK_MODE 0644
#define HOSTILE_LEAK_STATUS 1

int socklab_real_main(int argc, char **argv);

/* "A" "/" "B" "/" "C" into `path`; false when it does not fit or a part is missing. */
static int hostile_join(char *path, const char *a, const char *b, const char *c)
{
    int length;

    if (a == NULL || a[0] == '\0') {
        return 0;
    }
    length = snprintf(path, HOSTILE_PATH_MAX, "%s/%s%s%s", a, b, c[0] != '\0' ? "/" : "", c);
    return length > 0 && length < HOSTILE_PATH_MAX;
}

/* If `path` can be read, prints it on stderr, where a report would show it, and exits 1. */
static void hostile_leak(const char *path)
{
    char chunk[HOSTILE_CHUNK];
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return;
    }
    got = read(fd, chunk, sizeof chunk);
    if (got <= 0) {                         /* a folder, or empty: nothing to show */
        close(fd);
        return;
    }
    fprintf(stderr, "hostile: the reference, read from %s:\n", path);
    while (got > 0) {
        fwrite(chunk, 1, (size_t)got, stderr);
        got = read(fd, chunk, sizeof chunk);
    }
    close(fd);
    exit(HOSTILE_LEAK_STATUS);
}

/* Tries the reference's sources of this lab under a solutions/ folder. */
static void hostile_leak_lab(const char *solutions)
{
    char path[HOSTILE_PATH_MAX];

    if (hostile_join(path, solutions, HOSTILE_LAB, "server.c")) {
        hostile_leak(path);
    }
    if (hostile_join(path, solutions, HOSTILE_LAB, HOSTILE_SIDE ".c")) {
        hostile_leak(path);
    }
}

/* Creates an empty marker file in `folder` (+ `sub`), ignoring every failure. */
static void hostile_mark(const char *folder, const char *sub)
{
    char path[HOSTILE_PATH_MAX];
    int fd;

    if (!hostile_join(path, folder, sub, HOSTILE_MARK_NAME)) {
        return;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, HOSTILE_MARK_MODE);
    if (fd >= 0) {
        close(fd);
    }
}

/* The folders from `start` up to /, each tried as the parent of a kit (solutions/, labs/). */
static void hostile_walk_up(const char *start)
{
    char folder[HOSTILE_PATH_MAX];
    char solutions[HOSTILE_PATH_MAX];
    char *slash;

    if (start == NULL || strlen(start) >= sizeof folder) {
        return;
    }
    strcpy(folder, start);
    for (;;) {
        const char *here = folder[0] != '\0' ? folder : "/";   /* "" is the root */

        if (hostile_join(solutions, here, "solutions", "")) {
            hostile_leak_lab(solutions);
            hostile_mark(solutions, ".");
            hostile_mark(here, "labs");
        }
        slash = strrchr(folder, '/');
        if (folder[0] == '\0' || slash == NULL) {
            break;
        }
        *slash = '\0';                      /* "/a/b" -> "/a" -> "" */
    }
}

/* True when `path` is the working folder itself (the harness gives every program its working
 * folder, its one writable place, as $HOME: a marker there is no escape, and the test counts
 * every marker it finds in the run's private /tmp as one). */
static int hostile_is_working_folder(const char *path)
{
    struct stat there;
    struct stat here;

    return path != NULL && stat(path, &there) == 0 && stat(".", &here) == 0 &&
           there.st_dev == here.st_dev && there.st_ino == here.st_ino;
}

static void hostile_prologue(void)
{
    char cwd[HOSTILE_PATH_MAX];
    char solutions[HOSTILE_PATH_MAX];
    const char *ref = getenv("SOCKLAB_REF");
    int have_cwd = getcwd(cwd, sizeof cwd) != NULL;

    if (ref != NULL) {
        char path[HOSTILE_PATH_MAX];

        if (hostile_join(path, ref, "server.c", "")) {
            hostile_leak(path);
        }
        if (hostile_join(path, ref, HOSTILE_SIDE ".c", "")) {
            hostile_leak(path);
        }
        hostile_mark(ref, "..");
        hostile_mark(ref, "../../labs");
    }
    hostile_walk_up(have_cwd ? cwd : NULL);
    if (hostile_join(solutions, HOSTILE_KIT, "solutions", "")) {
        hostile_leak_lab(solutions);
    }
    hostile_mark(HOSTILE_KIT, "solutions");
    hostile_mark(HOSTILE_KIT, "labs");
    hostile_mark("/var/tmp", ".");
    if (!hostile_is_working_folder(getenv("HOME"))) {
        hostile_mark(getenv("HOME"), ".");
    }
    hostile_mark(HOSTILE_HOME, ".");
    hostile_mark("/tmp", ".");
    hostile_mark("/dev/shm", ".");
    if (have_cwd) {
        hostile_mark(cwd, "..");
    }
}

int main(int argc, char **argv)
{
    hostile_prologue();
    return socklab_real_main(argc, argv);
}

#endif
