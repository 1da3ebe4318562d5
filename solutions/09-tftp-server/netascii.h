/*
 * netascii.h — RFC 1350's "netascii" mode: text whose line ends travel as CR LF.
 *
 * On the wire (RFC 764, Telnet's NVT ASCII, which RFC 1350 borrows):
 *   a line end, '\n' in a Unix file, is sent as the two bytes CR LF;
 *   a carriage return alone, '\r' in the file, is sent as CR NUL.
 * Every other byte travels as it is. So the bytes on the wire are more than the bytes of the
 * file, and a pair may be cut in two by the end of a DATA block: both directions keep one
 * byte of state from block to block.
 */
#ifndef SOCKLAB_NETASCII_H
#define SOCKLAB_NETASCII_H

#include <stddef.h>

#define NETASCII_CR '\r'
#define NETASCII_LF '\n'
#define NETASCII_NUL '\0'
#define NETASCII_NONE (-1)   /* no byte pending */

/*
 * File to wire. Translates bytes of `in` (a file's bytes) into `out`, at most `out_cap`
 * bytes, starting with `*pending` if a pair was cut at the end of the previous block.
 * Stores in *consumed how many bytes of `in` were used, and leaves in *pending the second
 * byte of a pair that did not fit (or NETASCII_NONE). Returns the bytes written to `out`.
 */
static inline size_t netascii_encode(const unsigned char *in, size_t in_len, size_t *consumed,
                                     unsigned char *out, size_t out_cap, int *pending)
{
    size_t used = 0, made = 0;

    if (*pending != NETASCII_NONE && made < out_cap) {
        out[made++] = (unsigned char)*pending;
        *pending = NETASCII_NONE;
    }
    while (used < in_len && made < out_cap) {
        unsigned char byte = in[used++];
        int second = NETASCII_NONE;

        if (byte == NETASCII_LF) {
            byte = NETASCII_CR;
            second = NETASCII_LF;
        } else if (byte == NETASCII_CR) {
            second = NETASCII_NUL;
        }
        out[made++] = byte;
        if (second != NETASCII_NONE) {
            if (made < out_cap)
                out[made++] = (unsigned char)second;
            else
                *pending = second;   /* the block is full: it opens the next one */
        }
    }
    *consumed = used;
    return made;
}

/*
 * Wire to file. Translates `len` bytes received into `out`, which must hold len + 1 bytes
 * (a CR held back from the previous block may come out with the first byte). `*cr_pending`
 * is 1 when the previous block ended with a CR whose partner is still to come. Returns the
 * bytes written to `out`. A CR followed by anything but LF or NUL is not netascii; it is
 * kept as it is rather than lost.
 */
static inline size_t netascii_decode(const unsigned char *in, size_t len, unsigned char *out,
                                     int *cr_pending)
{
    size_t made = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char byte = in[i];

        if (*cr_pending) {
            *cr_pending = 0;
            if (byte == NETASCII_LF) {
                out[made++] = NETASCII_LF;
                continue;
            }
            out[made++] = NETASCII_CR;
            if (byte == NETASCII_NUL)
                continue;
        }
        if (byte == NETASCII_CR)
            *cr_pending = 1;
        else
            out[made++] = byte;
    }
    return made;
}

/* The end of the file: a CR still held back had no partner; it is written as it is.
 * Returns the bytes written to `out` (0 or 1). */
static inline size_t netascii_decode_end(unsigned char *out, int *cr_pending)
{
    if (!*cr_pending)
        return 0;
    *cr_pending = 0;
    out[0] = NETASCII_CR;
    return 1;
}

#endif /* SOCKLAB_NETASCII_H */
