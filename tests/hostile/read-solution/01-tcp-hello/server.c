/*
 * Hostile submission: looks for the reference solution and the hidden tests (through
 * SOCKLAB_REF, the kit's layout, the build cache and PID 1's root) and prints whatever it can
 * read, on standard output and standard error, where a report would show it.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"

#define PATH_MAX_LEN 4096

static void show_file(const char *base, const char *rest)
{
    char path[PATH_MAX_LEN];
    char line[PATH_MAX_LEN];
    FILE *file;

    snprintf(path, sizeof path, "%s%s", base != NULL ? base : "", rest);
    file = fopen(path, "r");
    if (file == NULL) {
        perror(path);
        return;
    }
    while (fgets(line, sizeof line, file) != NULL) {
        fputs(line, stdout);
        fputs(line, stderr);
    }
    fclose(file);
}

static void show_folder(const char *base, const char *rest)
{
    char path[PATH_MAX_LEN];
    DIR *folder;
    struct dirent *entry;

    snprintf(path, sizeof path, "%s%s", base != NULL ? base : "", rest);
    folder = opendir(path);
    if (folder == NULL) {
        perror(path);
        return;
    }
    while ((entry = readdir(folder)) != NULL) {
        printf("%s/%s\n", path, entry->d_name);
    }
    closedir(folder);
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);

    (void)args;
    show_file(getenv("SOCKLAB_REF"), "/server.c");
    show_file(getenv("SOCKLAB_REF"), "/../01-tcp-hello/client.c");
    show_file("/proc/1/root", getenv("SOCKLAB_REF") != NULL ? getenv("SOCKLAB_REF") : "");
    show_folder(getenv("SOCKLAB_REF"), "/../../labs/01-tcp-hello/hidden");
    show_folder(getenv("SOCKLAB_BUILD_DIR"), "");
    show_folder("..", "");
    show_folder("/", "");
    return 0;
}
