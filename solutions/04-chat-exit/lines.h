/*
 * lines.h — reading newline-terminated lines from a TCP connection.
 *
 * TCP moves a stream of bytes, not messages. One line sent with one send() may arrive in
 * several pieces, and two lines sent one after the other may arrive in one recv(). So we
 * never treat what one recv() returned as "a message": we keep the bytes in a buffer, hand
 * out each line once its '\n' has arrived, and keep whatever follows it for the next call.
 */
#ifndef SOCKLAB_LINES_H
#define SOCKLAB_LINES_H

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#define LINE_MAX_BYTES 4095                 /* the longest line the contract asks for */
#define LINE_BUFFER_SIZE (LINE_MAX_BYTES + 1)  /* + 1 for its '\n', replaced by '\0' */

/* What line_read() found. */
enum line_status {
    LINE_OK,        /* a whole line: *line points to it, '\0'-terminated, without '\n' */
    LINE_EOF,       /* the peer closed the connection between two lines */
    LINE_PARTIAL,   /* the peer closed the connection in the middle of a line */
    LINE_TOO_LONG,  /* LINE_BUFFER_SIZE bytes arrived without a '\n' */
    LINE_ERROR,     /* recv() failed: see errno */
};

/* The bytes received from one connection and not yet handed out as lines. */
struct line_reader {
    int fd;
    size_t start;                  /* where the first byte not yet handed out is */
    size_t end;                    /* one past the last byte received */
    char buffer[LINE_BUFFER_SIZE];
};

static inline void line_reader_init(struct line_reader *reader, int fd)
{
    reader->fd = fd;
    reader->start = 0;
    reader->end = 0;
}

/*
 * Waits for the next whole line from the connection. On LINE_OK, *line and *length describe
 * it; they stay valid until the next call, which reuses the buffer.
 */
static inline enum line_status line_read(struct line_reader *reader, char **line,
                                         size_t *length)
{
    /* The previous line has been used: move the bytes that followed it to the front, so
     * that a line may use the whole buffer. */
    memmove(reader->buffer, reader->buffer + reader->start, reader->end - reader->start);
    reader->end -= reader->start;
    reader->start = 0;

    size_t scanned = 0;  /* bytes already known to hold no '\n' */
    for (;;) {
        char *newline = memchr(reader->buffer + scanned, '\n', reader->end - scanned);
        if (newline != NULL) {
            *newline = '\0';  /* recv() stores bytes, not strings: terminate the line */
            *line = reader->buffer;
            *length = (size_t)(newline - reader->buffer);
            reader->start = *length + 1;
            return LINE_OK;
        }
        scanned = reader->end;
        if (reader->end == sizeof reader->buffer)
            return LINE_TOO_LONG;

        ssize_t got = recv(reader->fd, reader->buffer + reader->end,
                           sizeof reader->buffer - reader->end, 0);
        if (got < 0) {
            if (errno == EINTR)  /* a signal interrupted the wait: wait again */
                continue;
            return LINE_ERROR;
        }
        if (got == 0)
            return reader->end == 0 ? LINE_EOF : LINE_PARTIAL;
        reader->end += (size_t)got;
    }
}

#endif /* SOCKLAB_LINES_H */
