/*
 * deadline.h — waiting for a datagram, but not forever.
 *
 * Given to students ready-made, like args.h. A program that waits on a socket needs to know
 * when to stop waiting (to retransmit, or to give up). Deadlines are points in time on the
 * monotonic clock, which never jumps when someone sets the date: each wait computes how long
 * is left, so that a signal or a datagram we ignore does not restart the whole timeout.
 */
#ifndef SOCKLAB_DEADLINE_H
#define SOCKLAB_DEADLINE_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>

#define US_PER_S 1000000
#define US_PER_MS 1000
#define NS_PER_US 1000
#define NO_DEADLINE (-1)   /* wait_readable(): wait as long as it takes */

/* Microseconds since some fixed point in the past (not the date). */
static inline int64_t monotonic_us(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * US_PER_S + now.tv_nsec / NS_PER_US;
}

/*
 * Waits until `fd` has something to read or the monotonic clock reaches `deadline_us`
 * (NO_DEADLINE: no limit). Returns 1 when readable, 0 at the deadline, -1 with errno set.
 * poll() counts in milliseconds: the time left is rounded up, so that we never wake before
 * the deadline and spin.
 */
static inline int wait_readable(int fd, int64_t deadline_us)
{
    for (;;) {
        struct pollfd watch = { .fd = fd, .events = POLLIN };
        int timeout_ms = -1;
        int ready;

        if (deadline_us != NO_DEADLINE) {
            int64_t left_us = deadline_us - monotonic_us();
            if (left_us <= 0)
                return 0;
            timeout_ms = (int)((left_us + US_PER_MS - 1) / US_PER_MS);
        }
        ready = poll(&watch, 1, timeout_ms);
        if (ready > 0)
            return 1;
        if (ready < 0 && errno != EINTR)
            return -1;
        /* 0 (time is up) or EINTR: the loop recomputes what is left. */
    }
}

#endif /* SOCKLAB_DEADLINE_H */
