/*
 * netascii.h — RFC 1350's "netascii" mode: text whose line ends travel as CR LF.
 *
 * On the wire (RFC 764, Telnet's NVT ASCII, which RFC 1350 borrows):
 *   a line end, '\n' in a Unix file, is sent as the two bytes CR LF;
 *   a carriage return alone, '\r' in the file, is sent as CR NUL.
 * Every other byte travels as it is. So the bytes on the wire are more than the bytes of the
 * file, and a pair may be cut in two by the end of a DATA block: both directions keep one
 * byte of state from block to block.
 *
 * Yours to write: steps H to J, marked TODO below. Until then the functions copy bytes
 * unchanged, so that octet transfers work while you write the rest.
 */
#ifndef SOCKLAB_NETASCII_H
#define SOCKLAB_NETASCII_H

#include <stddef.h>
#include <string.h>

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
    /* TODO(step H): first the pending byte, if any. Then, while there is input and room:
     * '\n' becomes CR LF, '\r' becomes CR NUL, any other byte stays. When only the first
     * byte of a pair fits, keep the second in *pending for the next block. RFC 1350
     * section 5 ("netascii"), RFC 764 (the Telnet NVT: CR LF, CR NUL). */
    size_t used = in_len < out_cap ? in_len : out_cap;

    (void)pending;
    if (used > 0)
        memcpy(out, in, used);   /* untranslated, for now */
    *consumed = used;
    return used;
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
    /* TODO(step I): the reverse: CR LF becomes '\n', CR NUL becomes '\r'. A CR at the end of
     * the block: hold it back (*cr_pending = 1) until the next block shows its partner. */
    (void)cr_pending;
    if (len > 0)
        memcpy(out, in, len);   /* untranslated, for now */
    return len;
}

/* The end of the file: a CR still held back had no partner; it is written as it is.
 * Returns the bytes written to `out` (0 or 1). */
static inline size_t netascii_decode_end(unsigned char *out, int *cr_pending)
{
    /* TODO(step J): if a CR is held back, write it to out[0], clear *cr_pending, return 1. */
    (void)out;
    (void)cr_pending;
    return 0;
}

#endif /* SOCKLAB_NETASCII_H */
