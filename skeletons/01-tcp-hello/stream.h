/*
 * stream.h — whole-message I/O over a TCP connection. Yours to write.
 *
 * TCP moves a stream of bytes, not messages: send() may accept fewer bytes than you ask, and
 * what one send() wrote may arrive in several recv() calls. These two loops hide both facts.
 */
#ifndef SOCKLAB_STREAM_H
#define SOCKLAB_STREAM_H

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Sends all `len` bytes of `buf`. Returns 0, or -1 with errno set. */
static inline int send_all(int fd, const void *buf, size_t len)
{
    /* TODO(step A): call send() until all `len` bytes are sent: it returns how many it took,
     * which may be fewer. Retry when it fails with EINTR. Pass MSG_NOSIGNAL, so that a peer
     * that has gone away gives EPIPE instead of killing the program with SIGPIPE.
     * See send(2). */
    (void)fd;
    (void)buf;
    (void)len;
    errno = ENOSYS;
    return -1;
}

/* Receives until the peer shuts down its side of the connection (recv() returns 0).
 * Returns the number of bytes stored in `buf` (at most `cap`), or -1 with errno set:
 * EMSGSIZE when the peer sent more than `cap` bytes. */
static inline ssize_t recv_until_eof(int fd, char *buf, size_t cap)
{
    /* TODO(step B): call recv() in a loop, appending to `buf`, until it returns 0 (EOF).
     * Retry on EINTR; return -1 on any other error. Never write past `cap` bytes.
     * See recv(2). */
    (void)fd;
    (void)buf;
    (void)cap;
    errno = ENOSYS;
    return -1;
}

#endif /* SOCKLAB_STREAM_H */
