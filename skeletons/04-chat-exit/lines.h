/*
 * lines.h — reading newline-terminated lines from a TCP connection. Yours to write.
 *
 * TCP moves a stream of bytes, not messages. One line sent with one send() may arrive in
 * several pieces, and two lines sent one after the other may arrive in one recv(). So never
 * treat what one recv() returned as "a message": keep the bytes in a buffer, hand out each
 * line once its '\n' has arrived, and keep whatever follows it for the next call.
 *
 * The interface below is given, so that server.c and client.c can be written against it;
 * the body of line_read() is the heart of this lab.
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
    /* TODO(step A): hand out the next line of the stream.
     *  1. The previous line (buffer[0] up to start) has been used: move the bytes after it,
     *     up to end, to the front of the buffer (memmove(3): the two ranges may overlap),
     *     and update start and end.
     *  2. Look for '\n' among the bytes you have (memchr(3)). Found: replace it with '\0'
     *     (recv() stores bytes, not strings), point *line at the buffer, set *length, set
     *     start just past the '\n', and return LINE_OK.
     *  3. Not found and the buffer is full: return LINE_TOO_LONG.
     *  4. Otherwise recv(2) more bytes after `end`, into the free part of the buffer only:
     *     < 0 with EINTR: try again; < 0 otherwise: LINE_ERROR; 0 (the peer closed):
     *     LINE_EOF if no byte is waiting, else LINE_PARTIAL. Then go back to 2.
     */
    (void)reader;
    (void)line;
    (void)length;
    errno = ENOSYS;
    return LINE_ERROR;
}

#endif /* SOCKLAB_LINES_H */
