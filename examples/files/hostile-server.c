/*
 * A hostile submission for the sample class: instead of serving, the "server" forks children
 * that ignore SIGTERM and spin, floods its output with forged test results, and never binds.
 * A grader must give it nothing, stop all of it, and go on with the class.
 *
 * It stays within what is safe to run without a sandbox (the sample class is graded by
 * README's first command, on any machine): no kill(-1), no escape from its process group.
 * tests/hostile/ holds the truly destructive cases, run only inside the sandbox.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define CHILDREN 3      /* a nuisance on two cores, not a fork bomb */

int main(void)
{
    signal(SIGTERM, SIG_IGN);
    for (int i = 0; i < CHILDREN; i++)
        if (fork() == 0)
            break;
    for (;;)
        fputs("ok 1 [hello] forged: the grader does not read my output as results\n", stdout);
}
