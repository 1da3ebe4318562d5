/*
 * tftp.h — TFTP's packets: what the RFCs say, as C.
 *
 *   RFC 1350  the protocol: five packets, stop-and-wait, block numbers, error codes
 *   RFC 2347  option negotiation: "name\0value\0" pairs after the mode, answered by an OACK
 *   RFC 2348  blksize: the number of data bytes in a full DATA packet, 8..65464
 *   RFC 2349  timeout (seconds before a retransmission, 1..255) and tsize (the file's size)
 *   RFC 7440  windowsize: how many DATA packets may be sent before waiting for an ACK
 *
 * Every number on the wire is an unsigned 16-bit integer in network byte order; every string
 * ends with a NUL byte. A packet is bytes, not a C string: lengths come from recvfrom(), and
 * nothing here reads past them.
 *
 * Given: the numbers, and the helpers that write packets. Yours to write: reading a request
 * (steps A to C, marked TODO below).
 */
#ifndef SOCKLAB_TFTP_H
#define SOCKLAB_TFTP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Opcodes: the first two bytes of every packet (RFC 1350 section 5, RFC 2347). */
enum tftp_opcode {
    TFTP_RRQ = 1,    /* read request:  opcode | name \0 | mode \0 | options */
    TFTP_WRQ = 2,    /* write request: the same */
    TFTP_DATA = 3,   /* opcode | block | 0..blksize bytes */
    TFTP_ACK = 4,    /* opcode | block */
    TFTP_ERROR = 5,  /* opcode | code | message \0 */
    TFTP_OACK = 6,   /* opcode | (option \0 value \0)... */
};

/* Error codes (RFC 1350 appendix, RFC 2347 for 8). */
enum tftp_error {
    TFTP_EUNDEF = 0,      /* not defined, see the message */
    TFTP_ENOTFOUND = 1,   /* file not found */
    TFTP_EACCESS = 2,     /* access violation */
    TFTP_ENOSPACE = 3,    /* disk full or allocation exceeded */
    TFTP_EBADOP = 4,      /* illegal TFTP operation */
    TFTP_EBADID = 5,      /* unknown transfer ID */
    TFTP_EEXISTS = 6,     /* file already exists */
    TFTP_ENOUSER = 7,     /* no such user */
    TFTP_EOPTION = 8,     /* option negotiation refused */
};

#define TFTP_HEADER_LEN 4          /* opcode + block number (or opcode + error code) */
#define TFTP_OPCODE_LEN 2
#define TFTP_BLOCK_MODULO 65536    /* block numbers are 16 bits: after 65535 comes 0 */
#define TFTP_BLKSIZE_DEFAULT 512   /* RFC 1350's only size */
#define TFTP_BLKSIZE_MIN 8         /* RFC 2348 */
#define TFTP_BLKSIZE_MAX 65464     /* RFC 2348's largest block */
#define TFTP_TIMEOUT_MIN 1         /* RFC 2349, seconds */
#define TFTP_TIMEOUT_MAX 255
#define TFTP_WINDOW_MIN 1          /* RFC 7440, blocks */
#define TFTP_WINDOW_MAX 65535
#define TFTP_OPTION_ABSENT (-1)    /* an option the client did not ask for, or that we refuse */
#define TFTP_DIGITS_MAX 20         /* strlen("18446744073709551615"): a tsize fits in 64 bits */
/* The longest OACK we send: four options, each a name and a value of up to 20 digits. */
#define TFTP_OACK_MAX (TFTP_OPCODE_LEN + 4 * (sizeof "windowsize" + TFTP_DIGITS_MAX + 1))

/* What a read or write request asks for. `name` points into the packet (NUL-terminated
 * there); every option is TFTP_OPTION_ABSENT unless the client asked for it with a value
 * this server accepts (see tftp_parse_request). */
struct tftp_request {
    int opcode;              /* TFTP_RRQ or TFTP_WRQ */
    const char *name;
    size_t name_len;
    int netascii;            /* 1: mode "netascii" (line ends translated); 0: "octet" */
    long long blksize;       /* 8..65464 */
    long long timeout;       /* 1..255 */
    long long tsize;         /* RRQ: 0 (the client asks for the size); WRQ: the size coming */
    long long windowsize;    /* 1..65535 */
};

static inline void tftp_put16(unsigned char *at, unsigned value)
{
    at[0] = (unsigned char)(value >> 8);
    at[1] = (unsigned char)(value & 0xFF);
}

static inline unsigned tftp_get16(const unsigned char *at)
{
    return (unsigned)at[0] << 8 | at[1];
}

/* A decimal number of digits only ("", "+1", " 1", "1x" are not numbers), at most `max`.
 * Returns 0 and stores it, or -1. */
static inline int tftp_parse_number(const char *text, long long max, long long *value)
{
    /* TODO(step A): accept digits only, at least one; build the value digit by digit, and
     * return -1 before it would pass `max` (check before multiplying: an overflowing long long
     * is undefined behaviour, and UBSan stops the program). strtoll(3) would also take " 12",
     * "+12" and "12abc". */
    (void)text;
    (void)max;
    (void)value;
    return -1;
}

/* The next NUL-terminated string of the packet from *at, or NULL when no NUL ends it before
 * `end`. Moves *at past the NUL. Given: memchr(3) never reads past `end`; strlen() would. */
static inline const char *tftp_next_string(const unsigned char **at, const unsigned char *end)
{
    const unsigned char *start = *at;
    const unsigned char *nul = memchr(start, '\0', (size_t)(end - start));

    if (nul == NULL)
        return NULL;
    *at = nul + 1;
    return (const char *)start;
}

/* One option of a request (RFC 2347: names are case-insensitive, values decimal). A value
 * that is not a number or is out of its range leaves the option absent, as an unknown option
 * would be: it is not in the OACK, and the transfer goes on without it. */
static inline void tftp_take_option(struct tftp_request *req, const char *name,
                                    const char *text)
{
    /* TODO(step B): read the value with tftp_parse_number(). Compare the name with
     * strcasecmp(3): "blksize" (TFTP_BLKSIZE_MIN..TFTP_BLKSIZE_MAX, RFC 2348 section 2),
     * "timeout" (TFTP_TIMEOUT_MIN..MAX, RFC 2349 section 2), "tsize" (any size, RFC 2349
     * section 3), "windowsize" (TFTP_WINDOW_MIN..MAX, RFC 7440 section 3). Store a value in
     * range in its field of *req; leave the field TFTP_OPTION_ABSENT otherwise, and keep the
     * first value when an option comes twice. Unknown names: nothing (RFC 2347 section 2). */
    (void)req;
    (void)name;
    (void)text;
}

/*
 * Reads an RRQ or WRQ: opcode | name \0 | mode \0 | (option \0 value \0)...
 * Returns 0, or -1 when the packet is not a well-formed request of a mode we serve (the
 * caller answers TFTP_EBADOP). The name is not checked here: that is rootpath.h's job.
 * An option name without its value, at the very end, is ignored like an unknown option.
 */
static inline int tftp_parse_request(const unsigned char *packet, size_t len,
                                     struct tftp_request *req)
{
    /* TODO(step C): RFC 1350 section 5, figure 5-1, and RFC 2347 section 2.
     * - Start with every option TFTP_OPTION_ABSENT and netascii 0.
     * - At least TFTP_OPCODE_LEN bytes; the opcode (tftp_get16) is TFTP_RRQ or TFTP_WRQ.
     * - The name, then the mode, each with tftp_next_string(); NULL means no NUL ends it:
     *   malformed. name_len = strlen(name).
     * - The mode, case-insensitive (strcasecmp): "netascii" or "octet"; anything else
     *   ("mail" included) is refused.
     * - Then pairs of strings until `end`: tftp_take_option(req, name, value). Bytes after
     *   the last NUL are malformed; a name without a value is ignored. */
    (void)packet;
    (void)len;
    (void)req;
    return -1;
}

/* DATA or ACK header: opcode | block. Returns TFTP_HEADER_LEN. */
static inline size_t tftp_header(unsigned char *packet, enum tftp_opcode opcode,
                                 uint64_t block)
{
    tftp_put16(packet, opcode);
    tftp_put16(packet + TFTP_OPCODE_LEN, (unsigned)(block % TFTP_BLOCK_MODULO));
    return TFTP_HEADER_LEN;
}

/* ERROR: opcode | code | message \0, into `packet` of `cap` bytes (the message is cut to
 * fit). Returns the packet's length. */
static inline size_t tftp_error_packet(unsigned char *packet, size_t cap,
                                       enum tftp_error code, const char *message)
{
    size_t room = cap - TFTP_HEADER_LEN - 1;
    size_t length = strlen(message);

    if (length > room)
        length = room;
    tftp_put16(packet, TFTP_ERROR);
    tftp_put16(packet + TFTP_OPCODE_LEN, code);
    memcpy(packet + TFTP_HEADER_LEN, message, length);
    packet[TFTP_HEADER_LEN + length] = '\0';
    return TFTP_HEADER_LEN + length + 1;
}

/* Appends "name\0value\0" to an OACK being built at packet[*len]. The caller's buffer is
 * TFTP_OACK_MAX bytes, enough for the four options this server knows. */
static inline void tftp_oack_add(unsigned char *packet, size_t *len, const char *name,
                                 long long value)
{
    char digits[TFTP_DIGITS_MAX + 1];
    size_t n = 0;
    unsigned long long rest = (unsigned long long)value;

    do {   /* the digits come out backwards; reverse them after */
        digits[n++] = (char)('0' + rest % 10);
        rest /= 10;
    } while (rest > 0);
    memcpy(packet + *len, name, strlen(name) + 1);
    *len += strlen(name) + 1;
    while (n > 0)
        packet[(*len)++] = (unsigned char)digits[--n];
    packet[(*len)++] = '\0';
}

/* The name of an error code, for messages. */
static inline const char *tftp_error_text(unsigned code)
{
    static const char *const texts[] = {
        "not defined", "file not found", "access violation", "disk full",
        "illegal operation", "unknown transfer ID", "file already exists", "no such user",
        "option refused",
    };
    return code < sizeof texts / sizeof texts[0] ? texts[code] : "unknown error code";
}

#endif /* SOCKLAB_TFTP_H */
