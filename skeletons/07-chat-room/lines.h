/*
 * lines.h — cutting a byte stream into lines, without ever waiting.
 *
 * TCP moves bytes, not lines: a line may arrive in many pieces, and one recv() may hold the
 * end of one line and the start of the next (lab 03). Lab 03's line_read() looped on recv()
 * until a whole line was there. A server that talks to many clients from one thread cannot
 * do that: while it waits for the rest of one client's line, everybody else waits too.
 *
 * So this buffer never calls recv() itself. The caller receives whatever is there, once, into
 * the buffer's free space (line_buffer_space() / line_buffer_added()), then takes out every
 * line that is complete (line_buffer_take()). Bytes of a line not yet finished stay in the
 * buffer until the next call, however long that takes.
 *
 * Given ready-made in the skeleton: the lab is about what to do with the lines.
 */
#ifndef SOCKLAB_LINES_H
#define SOCKLAB_LINES_H

#include <stddef.h>
#include <string.h>

#define LINE_MAX_BYTES 4095                    /* the longest line the contract accepts */
#define LINE_BUFFER_SIZE (LINE_MAX_BYTES + 1)  /* + 1 for its '\n', replaced by '\0' */

/* What line_buffer_take() found. */
enum line_status {
    LINE_OK,        /* a whole line: *line points to it, '\0'-terminated, without its '\n' */
    LINE_NONE,      /* no whole line yet: receive more bytes, later */
    LINE_TOO_LONG,  /* the buffer is full and holds no '\n': the line is over the limit */
};

/* The bytes received from one connection and not yet handed out as lines. */
struct line_buffer {
    size_t start;                   /* the first byte not yet handed out */
    size_t end;                     /* one past the last byte received */
    size_t scanned;                 /* bytes from start on already known to hold no '\n' */
    char bytes[LINE_BUFFER_SIZE];
};

static inline void line_buffer_init(struct line_buffer *buffer)
{
    buffer->start = 0;
    buffer->end = 0;
    buffer->scanned = 0;
}

/*
 * Where the next recv() may write, and how many bytes it may write there (*room; 0 when the
 * buffer is full). The lines already handed out are dropped first, so that a line may use
 * the whole buffer.
 */
static inline char *line_buffer_space(struct line_buffer *buffer, size_t *room)
{
    if (buffer->start > 0) {
        /* the two ranges may overlap: memmove(3), not memcpy(3) */
        memmove(buffer->bytes, buffer->bytes + buffer->start, buffer->end - buffer->start);
        buffer->end -= buffer->start;
        buffer->start = 0;
    }
    *room = sizeof buffer->bytes - buffer->end;
    return buffer->bytes + buffer->end;
}

/* Records that recv() stored `count` bytes where line_buffer_space() said. */
static inline void line_buffer_added(struct line_buffer *buffer, size_t count)
{
    buffer->end += count;
}

/*
 * Hands out the next whole line, if there is one. On LINE_OK, *line and *length describe it;
 * they stay valid until the next line_buffer_space(), which reuses the memory.
 */
static inline enum line_status line_buffer_take(struct line_buffer *buffer, char **line,
                                                size_t *length)
{
    char *first = buffer->bytes + buffer->start;
    size_t waiting = buffer->end - buffer->start;
    /* Bytes already scanned hold no '\n': with lines arriving one byte at a time, scanning
     * them again on every call would cost time proportional to the square of the length. */
    char *newline = memchr(first + buffer->scanned, '\n', waiting - buffer->scanned);

    if (newline == NULL) {
        buffer->scanned = waiting;
        if (buffer->start == 0 && buffer->end == sizeof buffer->bytes)
            return LINE_TOO_LONG;
        return LINE_NONE;
    }
    *newline = '\0';  /* recv() stores bytes, not strings: terminate the line */
    *line = first;
    *length = (size_t)(newline - first);
    buffer->start += *length + 1;
    buffer->scanned = 0;
    return LINE_OK;
}

#endif /* SOCKLAB_LINES_H */
