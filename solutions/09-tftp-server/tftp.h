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
    long long result = 0;

    if (*text == '\0')
        return -1;
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9')
            return -1;
        if (result > (max - (*text - '0')) / 10)
            return -1;   /* would pass max: stop before it overflows */
        result = result * 10 + (*text - '0');
    }
    *value = result;
    return 0;
}

/* The next NUL-terminated string of the packet from *at, or NULL when no NUL ends it before
 * `end`. Moves *at past the NUL. */
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
    long long value;

    if (tftp_parse_number(text, INT64_MAX, &value) != 0)
        return;
    if (strcasecmp(name, "blksize") == 0 && req->blksize == TFTP_OPTION_ABSENT) {
        if (value >= TFTP_BLKSIZE_MIN && value <= TFTP_BLKSIZE_MAX)
            req->blksize = value;
    } else if (strcasecmp(name, "timeout") == 0 && req->timeout == TFTP_OPTION_ABSENT) {
        if (value >= TFTP_TIMEOUT_MIN && value <= TFTP_TIMEOUT_MAX)
            req->timeout = value;
    } else if (strcasecmp(name, "tsize") == 0 && req->tsize == TFTP_OPTION_ABSENT) {
        req->tsize = value;
    } else if (strcasecmp(name, "windowsize") == 0 && req->windowsize == TFTP_OPTION_ABSENT) {
        if (value >= TFTP_WINDOW_MIN && value <= TFTP_WINDOW_MAX)
            req->windowsize = value;
    }
    /* Anything else is an option we do not know: RFC 2347 says to ignore it. */
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
    const unsigned char *at = packet + TFTP_OPCODE_LEN;
    const unsigned char *end = packet + len;
    const char *mode;

    if (len < TFTP_OPCODE_LEN)
        return -1;
    *req = (struct tftp_request){
        .opcode = (int)tftp_get16(packet), .blksize = TFTP_OPTION_ABSENT,
        .timeout = TFTP_OPTION_ABSENT, .tsize = TFTP_OPTION_ABSENT,
        .windowsize = TFTP_OPTION_ABSENT,
    };
    if (req->opcode != TFTP_RRQ && req->opcode != TFTP_WRQ)
        return -1;
    req->name = tftp_next_string(&at, end);
    if (req->name == NULL)
        return -1;
    req->name_len = strlen(req->name);
    mode = tftp_next_string(&at, end);
    if (mode == NULL)
        return -1;
    if (strcasecmp(mode, "netascii") == 0)
        req->netascii = 1;
    else if (strcasecmp(mode, "octet") != 0)
        return -1;   /* "mail" is obsolete (RFC 1350 says so itself), anything else unknown */
    while (at < end) {
        const char *name = tftp_next_string(&at, end);
        const char *value = name == NULL ? NULL : tftp_next_string(&at, end);

        if (name == NULL)
            return -1;   /* bytes after the last NUL: not a string at all */
        if (value == NULL)
            break;
        tftp_take_option(req, name, value);
    }
    return 0;
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
