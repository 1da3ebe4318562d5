/*
 * stream.h — whole-message I/O over a TCP connection.
 *
 * TCP moves a stream of bytes, not messages: one send() may be cut into several segments, and
 * send() itself may accept fewer bytes than asked. These two loops hide both facts.
 */
#ifndef SOCKLAB_STREAM_H
#define SOCKLAB_STREAM_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends all `len` bytes of `buf`. Returns 0, or -1 with errno set.
 * MSG_NOSIGNAL: a peer that has gone away gives EPIPE here instead of a SIGPIPE that would
 * kill the whole program before it can say what went wrong. */
static inline int send_all(int fd, const void *buf, size_t len)
{
    const char *next = buf;

    while (len > 0) {
        ssize_t sent = send(fd, next, len, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)  /* a signal arrived before anything was sent: try again */
                continue;
            return -1;
        }
        next += sent;
        len -= (size_t)sent;
    }
    return 0;
}

/* Receives until the peer shuts down its side of the connection (recv() returns 0).
 * Returns the number of bytes stored in `buf` (at most `cap`), or -1 with errno set:
 * EMSGSIZE when the peer sent more than `cap` bytes. */
static inline ssize_t recv_until_eof(int fd, char *buf, size_t cap)
{
    size_t used = 0;

    for (;;) {
        char spare;  /* where a byte beyond `cap` lands, to tell "full" from "too long" */
        char *dest = used < cap ? buf + used : &spare;
        size_t room = used < cap ? cap - used : sizeof spare;
        ssize_t got = recv(fd, dest, room, 0);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (got == 0)
            return (ssize_t)used;
        if (dest == &spare) {
            errno = EMSGSIZE;
            return -1;
        }
        used += (size_t)got;
    }
}

#endif /* SOCKLAB_STREAM_H */
