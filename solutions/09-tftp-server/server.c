/*
 * Lab 09 — a TFTP server (RFC 1350, with RFCs 2347, 2348, 2349 and 7440), the reference.
 *
 *   server [PORT [ROOT]]          PORT 6969, ROOT "." by default
 *
 * Serves the files under ROOT to any TFTP client: read (RRQ) and write (WRQ) requests, modes
 * octet and netascii, the options blksize, timeout, tsize and windowsize. Each transfer gets
 * a socket of its own (a new port: its transfer ID), and all of them run side by side in this
 * one thread: ppoll(2) waits on every socket at once, and on the earliest retransmission
 * deadline. Runs until SIGINT or SIGTERM.
 *
 * stdout: "TFTP server on port PORT, serving ROOT." once listening; one line per transfer,
 * "RRQ NAME from ADDRESS: N bytes" or "... failed: REASON"; "TFTP server stopped." at the end.
 */
#define _GNU_SOURCE   /* ppoll(2) */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "deadline.h"
#include "netascii.h"
#include "rootpath.h"
#include "tftp.h"

#define DEFAULT_TFTP_PORT 6969     /* TFTP's own port is 69, which only root may bind */
#define DEFAULT_ROOT "."
#define MAX_TRANSFERS 64           /* at once; the contract asks for at least 16 */
#define MAX_TRIES 5                /* sends of one packet before the transfer is abandoned */
#define DEFAULT_TIMEOUT_S 1        /* seconds before a retransmission, unless negotiated */
#define DATAGRAM_MAX 65536         /* larger than any UDP payload (65507 over IPv4) */
#define FILE_BUFFER (64 * 1024)    /* bytes read ahead, or gathered before a write(2) */
#define NAME_SHOWN_MAX 120         /* bytes of a requested name printed in a line */
#define TEMP_NAME_MAX 64           /* ".tftp-upload.<pid>.<counter>" with room to spare */
#define TEMP_TRIES 100             /* temporary names tried before giving up */
#define ADDRESS_TEXT_MAX (INET_ADDRSTRLEN + sizeof ":65535")
#define ERROR_PACKET_MAX 128       /* our ERROR packets: a code and a short message */
#define FILE_MODE 0644             /* files written by WRQ: rw-r--r--, less the umask */
#define BACKWARDS (TFTP_BLOCK_MODULO / 2)   /* a block number this far ahead is in the past */

enum phase {
    PHASE_OACK,       /* RRQ: our OACK is out; waiting for its ACK 0 */
    PHASE_SENDING,    /* RRQ: sending DATA, a window at a time */
    PHASE_RECEIVING,  /* WRQ: receiving DATA */
    PHASE_DALLYING,   /* WRQ: complete; staying a while to answer a repeated last DATA */
};

/* Where a DATA block starts in the file: its offset, and the second byte of a netascii pair
 * cut by the previous block. Kept for every block in flight, so that any of them can be
 * built again for a retransmission. */
struct block_start {
    off_t offset;
    int pending;
};

struct transfer {
    int sock;                        /* -1: this slot is free */
    struct sockaddr_in peer;         /* the client's address and port: its transfer ID */
    char peer_text[ADDRESS_TEXT_MAX];
    char *name;                      /* as shown in lines (escaped, maybe shortened) */
    int writing;                     /* WRQ */
    int netascii;
    enum phase phase;
    size_t blksize;
    uint64_t window;
    int timeout_s;
    int file_fd;                     /* RRQ: the file; WRQ: the temporary file */
    int dir_fd;                      /* WRQ: the folder the file goes to */
    char temp[TEMP_NAME_MAX];        /* WRQ: the temporary file's name in dir_fd, or "" */
    char *target;                    /* WRQ: the name's last component, in dir_fd */
    unsigned char *packet;           /* one DATA packet: header + blksize bytes */
    /* The file's bytes, a system call for many blocks: an RRQ reads FILE_BUFFER bytes ahead
     * (those from `buffer_at` in the file), a WRQ gathers blocks before it writes them. */
    unsigned char *buffer;
    size_t buffer_cap, buffer_len;
    off_t buffer_at;
    unsigned char control[TFTP_OACK_MAX];   /* the last ACK or OACK we sent, to repeat */
    size_t control_len;
    int64_t deadline_us;             /* when to retransmit (or, dallying, to close) */
    int tries;                       /* sends of what we wait an answer for */
    uint64_t bytes;                  /* file bytes read or written */
    /* RRQ: blocks base .. next-1 are in flight; `last` is the final block, once built. */
    uint64_t base, next, last;
    struct block_start *starts;      /* ring of `window` entries, indexed by block % window */
    struct block_start reader;       /* where block `next` starts */
    /* WRQ: `expected` is the next block to write. */
    uint64_t expected;
    uint64_t unacked;                /* blocks written since our last ACK */
    int gap_acked;                   /* a block from the future was answered already */
    int cr_pending;                  /* netascii: a CR ended the last block */
};

struct server {
    int listener;
    int root_fd;
    unsigned temp_counter;
    struct transfer transfers[MAX_TRANSFERS];
    unsigned char datagram[DATAGRAM_MAX];
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

/* --- small helpers ------------------------------------------------------------------------ */

static int same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void address_text(const struct sockaddr_in *address, char *text)
{
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &address->sin_addr, ip, sizeof ip);
    snprintf(text, ADDRESS_TEXT_MAX, "%s:%u", ip, (unsigned)ntohs(address->sin_port));
}

/* A name a stranger chose, made safe to print: printable ASCII stays, every other byte
 * (escape sequences for the terminal, newlines that would forge a line) becomes \xNN, and a
 * long name is cut with "...". Returns a malloc'ed string, or NULL. */
static char *shown_name(const char *name, size_t len)
{
    size_t shown = len < NAME_SHOWN_MAX ? len : NAME_SHOWN_MAX;
    char *text = malloc(shown * sizeof "\\xFF" + sizeof "...");
    size_t at = 0;

    if (text == NULL)
        return NULL;
    for (size_t i = 0; i < shown; i++) {
        unsigned char byte = (unsigned char)name[i];
        if (byte >= 0x20 && byte < 0x7F && byte != '\\')
            text[at++] = (char)byte;
        else
            at += (size_t)sprintf(text + at, "\\x%02X", byte);
    }
    strcpy(text + at, shown < len ? "..." : "");
    return text;
}

/* Sends a datagram from `sock`. A failure is reported and otherwise treated like a datagram
 * the network lost: the retransmission timer will send it again. */
static void send_to(int sock, const struct sockaddr_in *to, const void *data, size_t len)
{
    if (sendto(sock, data, len, 0, (const struct sockaddr *)to, sizeof *to) < 0)
        perror("server: sendto");
}

static void send_error(int sock, const struct sockaddr_in *to, enum tftp_error code,
                       const char *message)
{
    unsigned char packet[ERROR_PACKET_MAX];

    send_to(sock, to, packet, tftp_error_packet(packet, sizeof packet, code, message));
}

static const char *error_message(enum tftp_error code)
{
    switch (code) {
    case TFTP_ENOTFOUND: return "File not found";
    case TFTP_EACCESS: return "Access violation";
    case TFTP_ENOSPACE: return "Disk full or allocation exceeded";
    case TFTP_EBADOP: return "Illegal TFTP operation";
    case TFTP_EBADID: return "Unknown transfer ID";
    case TFTP_EEXISTS: return "File already exists";
    default: return "Undefined error";
    }
}

/* --- the life of a transfer --------------------------------------------------------------- */

static void report(const struct transfer *t, const char *failure)
{
    const char *kind = t->writing ? "WRQ" : "RRQ";
    const char *name = t->name ? t->name : "?";

    if (failure)
        printf("%s %s from %s failed: %s\n", kind, name, t->peer_text, failure);
    else
        printf("%s %s from %s: %llu bytes\n", kind, name, t->peer_text,
               (unsigned long long)t->bytes);
}

/* Frees the slot: every descriptor closed, every allocation freed, and a write that did not
 * complete leaves no file: its temporary file is removed. */
static void release(struct transfer *t)
{
    if (t->file_fd >= 0)
        close(t->file_fd);
    if (t->temp[0] != '\0' && unlinkat(t->dir_fd, t->temp, 0) < 0)
        perror("server: removing an unfinished upload");
    if (t->dir_fd >= 0)
        close(t->dir_fd);
    if (t->sock >= 0)
        close(t->sock);
    free(t->name);
    free(t->target);
    free(t->packet);
    free(t->buffer);
    free(t->starts);
    *t = (struct transfer){ .sock = -1, .file_fd = -1, .dir_fd = -1 };
}

/* Ends a transfer that failed: tells the client why (unless `code` is negative: it already
 * knows, or has gone), prints the line, frees the slot. */
static void fail(struct transfer *t, int code, const char *reason)
{
    if (code >= 0)
        send_error(t->sock, &t->peer, (enum tftp_error)code,
                   error_message((enum tftp_error)code));
    report(t, reason);
    release(t);
}

static void arm(struct transfer *t)
{
    t->deadline_us = monotonic_us() + (int64_t)t->timeout_s * US_PER_S;
}

static void send_control(struct transfer *t)
{
    send_to(t->sock, &t->peer, t->control, t->control_len);
    arm(t);
}

static void send_ack(struct transfer *t, uint64_t block)
{
    t->control_len = tftp_header(t->control, TFTP_ACK, block);
    t->unacked = 0;
    send_control(t);
}

/* WRQ: tells the client how far the file is written: ACK of the last block in order, or,
 * before the first block, our first answer again (ACK 0, or the OACK that stood for it). */
static void ack_progress(struct transfer *t)
{
    if (t->expected == 1)
        send_control(t);
    else
        send_ack(t, t->expected - 1);
}

/* RRQ: the file's bytes from `offset` on, from the read-ahead buffer (filled again with
 * pread(2) when `offset` is not in it). Stores where they are in *bytes; returns how many
 * there are (0 at the end of the file), or -1 if reading failed. */
static ssize_t file_bytes(struct transfer *t, off_t offset, const unsigned char **bytes)
{
    if (offset < t->buffer_at || offset >= t->buffer_at + (off_t)t->buffer_len) {
        ssize_t got;
        do {
            got = pread(t->file_fd, t->buffer, t->buffer_cap, offset);
        } while (got < 0 && errno == EINTR);
        if (got < 0)
            return -1;
        t->buffer_at = offset;
        t->buffer_len = (size_t)got;
    }
    *bytes = t->buffer + (offset - t->buffer_at);
    return (ssize_t)(t->buffer_at + (off_t)t->buffer_len - offset);
}

/* Builds DATA block `number` from where t->reader stands, and moves the reader past it.
 * Returns the data length (blksize for all blocks but the last), or -1 if reading failed. */
static long build_block(struct transfer *t, uint64_t number)
{
    unsigned char *data = t->packet + tftp_header(t->packet, TFTP_DATA, number);
    size_t filled = 0;

    while (filled < t->blksize) {
        const unsigned char *bytes = NULL;
        size_t consumed, room = t->blksize - filled;
        ssize_t got;

        if (t->netascii && t->reader.pending != NETASCII_NONE) {
            /* the second byte of a pair the previous block cut */
            filled += netascii_encode(NULL, 0, &consumed, data + filled, room,
                                      &t->reader.pending);
            continue;
        }
        got = file_bytes(t, t->reader.offset, &bytes);
        if (got < 0)
            return -1;
        if (got == 0)
            break;   /* the end of the file */
        if (t->netascii) {
            filled += netascii_encode(bytes, (size_t)got, &consumed, data + filled, room,
                                      &t->reader.pending);
        } else {
            consumed = (size_t)got < room ? (size_t)got : room;
            memcpy(data + filled, bytes, consumed);
            filled += consumed;
        }
        t->reader.offset += (off_t)consumed;
    }
    return (long)filled;
}

/* RRQ: sends blocks until `window` are in flight or the final one is out. */
static void send_window(struct transfer *t)
{
    while (t->next < t->base + t->window && (t->last == 0 || t->next <= t->last)) {
        long length;

        t->starts[t->next % t->window] = t->reader;
        length = build_block(t, t->next);
        if (length < 0) {
            fail(t, TFTP_EUNDEF, "cannot read the file");
            return;
        }
        if ((size_t)length < t->blksize) {
            t->last = t->next;
            t->bytes = (uint64_t)t->reader.offset;
        }
        send_to(t->sock, &t->peer, t->packet, TFTP_HEADER_LEN + (size_t)length);
        t->next++;
    }
    arm(t);
}

/* RRQ: sends the window again from its first unacknowledged block (a timeout, or the
 * receiver saying where its data stops). */
static void resend_from_base(struct transfer *t)
{
    t->next = t->base;
    t->reader = t->starts[t->base % t->window];
    send_window(t);
}

/* RRQ: an ACK arrived from the client. */
static void on_ack(struct transfer *t, unsigned block)
{
    uint64_t acked = t->base - 1;     /* the last block the client has confirmed */
    uint64_t ahead = (block - acked) % TFTP_BLOCK_MODULO;

    if (t->phase == PHASE_OACK) {
        if (block != 0)
            return;
        t->phase = PHASE_SENDING;
        t->tries = 1;
        send_window(t);
        return;
    }
    /* `ahead` blocks past what was confirmed. 0 is a duplicate ACK: it says nothing new, and
     * answering it with DATA would double every packet from there on (the Sorcerer's
     * Apprentice bug, RFC 1123 section 4.2.3.1). Only the timer retransmits. An ACK for a
     * block we never sent is stale or forged: ignored too. */
    if (ahead == 0 || ahead > t->next - t->base)
        return;
    t->base = acked + ahead + 1;
    t->tries = 1;
    if (t->last != 0 && t->base > t->last) {
        report(t, NULL);
        release(t);
        return;
    }
    if (t->base < t->next)
        resend_from_base(t);   /* RFC 7440: an ACK inside the window marks a lost block */
    else
        send_window(t);
}

/* WRQ: writes `len` bytes to the temporary file, whole. Returns 0, or -1 with errno set. */
static int write_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t wrote = write(fd, data, len);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote < 0)
            return -1;
        data += wrote;
        len -= (size_t)wrote;
    }
    return 0;
}

/* WRQ: writes what the buffer gathered. Returns 0, or -1 with errno set. */
static int flush_buffer(struct transfer *t)
{
    int result = write_all(t->file_fd, t->buffer, t->buffer_len);

    t->buffer_len = 0;
    return result;
}

static void fail_write(struct transfer *t, int error)
{
    char reason[128];

    snprintf(reason, sizeof reason, "cannot write: %s", strerror(error));
    fail(t, error == ENOSPC || error == EFBIG || error == EDQUOT ? TFTP_ENOSPACE : TFTP_EUNDEF,
         reason);
}

/* WRQ: the final block is written: the file gets its name, atomically and only if the name
 * is still free (link(2) fails with EEXIST rather than replace anything). */
static void finish_write(struct transfer *t)
{
    size_t tail_len = 0;
    int result;

    if (t->netascii)   /* on_data left room for it */
        tail_len = netascii_decode_end(t->buffer + t->buffer_len, &t->cr_pending);
    t->buffer_len += tail_len;
    t->bytes += tail_len;
    if (flush_buffer(t) < 0) {
        fail_write(t, errno);
        return;
    }
    result = close(t->file_fd);   /* may report a delayed write error (NFS, quotas) */
    t->file_fd = -1;
    if (result < 0) {
        fail_write(t, errno);
        return;
    }
    if (linkat(t->dir_fd, t->temp, t->dir_fd, t->target, 0) < 0) {
        if (errno == EEXIST)
            fail(t, TFTP_EEXISTS, "file already exists");
        else
            fail_write(t, errno);
        return;
    }
    if (unlinkat(t->dir_fd, t->temp, 0) < 0)
        perror("server: removing a temporary file");
    t->temp[0] = '\0';
    send_ack(t, t->expected - 1);
    report(t, NULL);
    /* Our last ACK may be lost; the client would then send its last DATA again. RFC 1350
     * asks the side that sends the final ACK to stay a while and answer it. */
    t->phase = PHASE_DALLYING;
    t->deadline_us = monotonic_us() + (int64_t)t->timeout_s * MAX_TRIES * US_PER_S;
}

/* WRQ: a DATA packet arrived from the client. */
static void on_data(struct transfer *t, unsigned block, const unsigned char *data, size_t len)
{
    uint64_t ahead = (block - t->expected) % TFTP_BLOCK_MODULO;
    size_t count = len;

    if (len > t->blksize) {
        fail(t, TFTP_EBADOP, "illegal operation: DATA longer than the block size");
        return;
    }
    if (t->phase == PHASE_DALLYING) {
        if (ahead != 0)      /* a repeat of the final block: its ACK was lost */
            send_control(t);
        return;
    }
    if (ahead != 0) {
        /* In the past (ahead wraps to a large number): our ACK was lost, or the sender went
         * back; say again where we are. In the future: a block was lost in between; say so
         * once (RFC 7440), so that the sender starts again from the gap. */
        if (ahead >= BACKWARDS || !t->gap_acked) {
            t->gap_acked = ahead < BACKWARDS;
            ack_progress(t);
        }
        return;
    }
    /* Room for the block, and for the CR netascii may give back at the end of the file. */
    if (t->buffer_len + len + 1 > t->buffer_cap && flush_buffer(t) < 0) {
        fail_write(t, errno);
        return;
    }
    if (t->netascii)
        count = netascii_decode(data, len, t->buffer + t->buffer_len, &t->cr_pending);
    else
        memcpy(t->buffer + t->buffer_len, data, len);
    t->buffer_len += count;
    t->bytes += count;
    t->expected++;
    t->unacked++;
    t->gap_acked = 0;
    t->tries = 1;
    if (len < t->blksize) {
        finish_write(t);
    } else if (t->unacked >= t->window) {
        send_ack(t, t->expected - 1);
    } else {
        arm(t);   /* the rest of the window is on its way */
    }
}

/* A datagram on a transfer's socket. */
static void on_packet(struct server *s, struct transfer *t, size_t len,
                      const struct sockaddr_in *from)
{
    const unsigned char *packet = s->datagram;
    unsigned opcode = len >= TFTP_OPCODE_LEN ? tftp_get16(packet) : 0;

    if (!same_peer(from, &t->peer)) {
        /* Not our client: RFC 1350 answers the stranger alone and leaves the transfer be —
         * unless it sent an ERROR, which is never answered: two programs could otherwise
         * trade "unknown transfer ID" forever. */
        if (opcode != TFTP_ERROR)
            send_error(t->sock, from, TFTP_EBADID, error_message(TFTP_EBADID));
        return;
    }
    if (opcode == TFTP_ERROR) {
        char reason[sizeof "client sent error 65535 ()" + NAME_SHOWN_MAX];
        unsigned code = len >= TFTP_HEADER_LEN ? tftp_get16(packet + TFTP_OPCODE_LEN) : 0;

        snprintf(reason, sizeof reason, "client sent error %u (%s)", code,
                 tftp_error_text(code));
        fail(t, -1, reason);   /* never answer an ERROR: two peers could do it forever */
        return;
    }
    if (len >= TFTP_HEADER_LEN && opcode == TFTP_ACK && !t->writing) {
        on_ack(t, tftp_get16(packet + TFTP_OPCODE_LEN));
        return;
    }
    if (len >= TFTP_HEADER_LEN && opcode == TFTP_DATA && t->writing) {
        on_data(t, tftp_get16(packet + TFTP_OPCODE_LEN), packet + TFTP_HEADER_LEN,
                len - TFTP_HEADER_LEN);
        return;
    }
    if (t->phase == PHASE_DALLYING && opcode == TFTP_ACK)
        return;   /* harmless: nothing to do with it */
    fail(t, TFTP_EBADOP, "illegal operation");
}

/* Reads every datagram waiting on a transfer's socket. */
static void on_readable(struct server *s, struct transfer *t)
{
    while (t->sock >= 0) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        /* MSG_TRUNC: the real length even if larger than the buffer (never, for UDP) */
        ssize_t got = recvfrom(t->sock, s->datagram, sizeof s->datagram,
                               MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &from_len);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                perror("server: recvfrom");
                fail(t, -1, "cannot receive");
            }
            return;
        }
        if (from_len != sizeof from || from.sin_family != AF_INET)
            continue;
        on_packet(s, t, (size_t)got, &from);
    }
}

/* The deadline passed with nothing from the client. */
static void on_timeout(struct transfer *t)
{
    if (t->phase == PHASE_DALLYING) {
        release(t);   /* its line was printed when the file was complete */
        return;
    }
    if (t->tries >= MAX_TRIES) {
        fail(t, -1, "timed out");   /* the client is gone: an ERROR would reach nobody */
        return;
    }
    t->tries++;
    if (t->phase == PHASE_SENDING)
        resend_from_base(t);
    else if (t->phase == PHASE_RECEIVING)
        ack_progress(t);
    else
        send_control(t);   /* the OACK of an RRQ */
}

/* --- starting a transfer ------------------------------------------------------------------ */

/* Creates the temporary file a WRQ writes to, in the folder the file will be in (a rename or
 * link works only within one file system). O_EXCL: never an existing file, nor a link. */
static int create_temp(struct server *s, struct transfer *t)
{
    for (int attempt = 0; attempt < TEMP_TRIES; attempt++) {
        snprintf(t->temp, sizeof t->temp, ".tftp-upload.%ld.%u", (long)getpid(),
                 s->temp_counter++);
        t->file_fd = openat(t->dir_fd, t->temp,
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
        if (t->file_fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    t->temp[0] = '\0';
    return -1;
}

/* Answers a request whose file cannot be served, from the transfer's own socket. */
static void refuse(struct transfer *t, enum rootpath_result result)
{
    switch (result) {
    case ROOTPATH_NOT_FOUND:
        fail(t, TFTP_ENOTFOUND, "file not found");
        break;
    case ROOTPATH_REFUSED:
    case ROOTPATH_DENIED:
        fail(t, TFTP_EACCESS, "access violation");
        break;
    case ROOTPATH_EXISTS:
        fail(t, TFTP_EEXISTS, "file already exists");
        break;
    default: {
        char reason[128];
        snprintf(reason, sizeof reason, "cannot open: %s", strerror(errno));
        fail(t, TFTP_EUNDEF, reason);
    }
    }
}

/* Opens the file and prepares the state of a new transfer; the first packet is not sent
 * yet. Returns ROOTPATH_OK, or why the file cannot be served. */
static enum rootpath_result open_file(struct server *s, struct transfer *t,
                                      const struct tftp_request *req)
{
    enum rootpath_result result;

    if (!t->writing)
        return rootpath_open_read(s->root_fd, req->name, req->name_len, &t->file_fd);
    {
        const char *base;
        result = rootpath_prepare_write(s->root_fd, req->name, req->name_len, &t->dir_fd,
                                        &base);
        if (result != ROOTPATH_OK)
            return result;
        t->target = strdup(base);
        if (t->target == NULL || create_temp(s, t) < 0)
            return ROOTPATH_FAILED;
    }
    return ROOTPATH_OK;
}

/* Builds the OACK of the options accepted into t->control; returns 0 if there is none. */
static size_t build_oack(struct transfer *t, const struct tftp_request *req)
{
    size_t len = TFTP_OPCODE_LEN;
    struct stat info;

    tftp_put16(t->control, TFTP_OACK);
    if (req->blksize != TFTP_OPTION_ABSENT)
        tftp_oack_add(t->control, &len, "blksize", req->blksize);
    if (req->timeout != TFTP_OPTION_ABSENT)
        tftp_oack_add(t->control, &len, "timeout", req->timeout);
    if (req->tsize != TFTP_OPTION_ABSENT) {
        /* RRQ: the file's size. In netascii the bytes on the wire are more, and unknown
         * until the file is read: the option is left out, as tftp-hpa does. WRQ: the
         * client's figure, confirmed. */
        if (t->writing)
            tftp_oack_add(t->control, &len, "tsize", req->tsize);
        else if (!t->netascii && fstat(t->file_fd, &info) == 0)
            tftp_oack_add(t->control, &len, "tsize", (long long)info.st_size);
    }
    if (req->windowsize != TFTP_OPTION_ABSENT)
        tftp_oack_add(t->control, &len, "windowsize", req->windowsize);
    return len > TFTP_OPCODE_LEN ? len : 0;
}

static struct transfer *free_slot(struct server *s)
{
    for (int i = 0; i < MAX_TRANSFERS; i++)
        if (s->transfers[i].sock < 0)
            return &s->transfers[i];
    return NULL;
}

static int busy_with(struct server *s, const struct sockaddr_in *peer)
{
    for (int i = 0; i < MAX_TRANSFERS; i++) {
        struct transfer *t = &s->transfers[i];
        if (t->sock >= 0 && same_peer(&t->peer, peer)) {
            if (t->phase != PHASE_DALLYING)
                return 1;
            release(t);   /* the client has moved on to its next request */
        }
    }
    return 0;
}

/* A request on the listening socket: a new transfer, from a new socket. */
static void start_transfer(struct server *s, const struct tftp_request *req,
                           const struct sockaddr_in *from)
{
    struct transfer *t = free_slot(s);
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    enum rootpath_result result;
    size_t oack_len;

    if (t == NULL)
        return;   /* cannot happen: the listener is not polled while every slot is taken */
    t->peer = *from;
    address_text(from, t->peer_text);
    t->writing = req->opcode == TFTP_WRQ;
    t->netascii = req->netascii;
    t->name = shown_name(req->name, req->name_len);
    /* A socket of its own, on a port the kernel picks (port 0): the transfer's ID. The
     * listening socket stays free for the next request. */
    t->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (t->sock < 0 || bind(t->sock, (struct sockaddr *)&any, sizeof any) < 0) {
        perror("server: transfer socket");
        send_error(t->sock >= 0 ? t->sock : s->listener, from, TFTP_EUNDEF,
                   "Server busy, try again later");
        report(t, "no socket for the transfer");
        release(t);
        return;
    }
    t->blksize = req->blksize != TFTP_OPTION_ABSENT ? (size_t)req->blksize
                                                    : TFTP_BLKSIZE_DEFAULT;
    t->window = req->windowsize != TFTP_OPTION_ABSENT ? (uint64_t)req->windowsize : 1;
    t->timeout_s = req->timeout != TFTP_OPTION_ABSENT ? (int)req->timeout : DEFAULT_TIMEOUT_S;
    result = open_file(s, t, req);
    if (result != ROOTPATH_OK) {
        refuse(t, result);
        return;
    }
    t->packet = malloc(TFTP_HEADER_LEN + t->blksize);
    t->buffer_cap = t->blksize + 1 > FILE_BUFFER ? t->blksize + 1 : FILE_BUFFER;
    t->buffer = malloc(t->buffer_cap);
    t->starts = t->writing ? NULL : calloc(t->window, sizeof *t->starts);
    if (t->packet == NULL || t->buffer == NULL || (!t->writing && t->starts == NULL)) {
        fail(t, TFTP_EUNDEF, "out of memory");
        return;
    }
    t->tries = 1;
    t->reader.pending = NETASCII_NONE;
    t->base = t->next = 1;
    t->expected = 1;
    oack_len = build_oack(t, req);
    if (oack_len > 0) {
        /* RFC 2347: the OACK replaces the first ACK of a WRQ; an RRQ's client answers it
         * with ACK 0 before the first DATA. */
        t->control_len = oack_len;
        t->phase = t->writing ? PHASE_RECEIVING : PHASE_OACK;
        send_control(t);
    } else if (t->writing) {
        t->phase = PHASE_RECEIVING;
        send_ack(t, 0);
    } else {
        t->phase = PHASE_SENDING;
        send_window(t);
    }
}

/* Reads every datagram waiting on the listening socket. */
static void on_requests(struct server *s)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        struct tftp_request req;
        ssize_t got = recvfrom(s->listener, s->datagram, sizeof s->datagram,
                               MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &from_len);

        if (got < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                perror("server: recvfrom");
            return;
        }
        if (from_len != sizeof from || from.sin_family != AF_INET)
            continue;
        if (tftp_parse_request(s->datagram, (size_t)got, &req) != 0) {
            /* Not a request we can read. An ERROR is never answered (see on_packet). */
            if (got < TFTP_OPCODE_LEN || tftp_get16(s->datagram) != TFTP_ERROR)
                send_error(s->listener, &from, TFTP_EBADOP, error_message(TFTP_EBADOP));
            continue;
        }
        /* The same client asking again: our first answer is late or lost, and the transfer
         * already running will repeat it. A second transfer would only compete with it. */
        if (busy_with(s, &from))
            continue;
        start_transfer(s, &req, &from);
        if (free_slot(s) == NULL)
            return;   /* the rest waits in the socket until a slot frees */
    }
}

/* --- the event loop ------------------------------------------------------------------------ */

/* Milliseconds until the earliest deadline (rounded up, so that we never wake early and
 * spin), or -1 when no transfer is running. */
static int64_t next_timeout_ms(const struct server *s)
{
    int64_t earliest = -1, now = monotonic_us();

    for (int i = 0; i < MAX_TRANSFERS; i++) {
        const struct transfer *t = &s->transfers[i];
        if (t->sock >= 0 && (earliest < 0 || t->deadline_us < earliest))
            earliest = t->deadline_us;
    }
    if (earliest < 0)
        return -1;
    return earliest <= now ? 0 : (earliest - now + US_PER_MS - 1) / US_PER_MS;
}

/* Serves until a stop signal. Returns 0, or -1 if waiting itself failed. */
static int serve(struct server *s, const sigset_t *wait_mask)
{
    struct pollfd watch[MAX_TRANSFERS + 1];
    int owner[MAX_TRANSFERS + 1];   /* the slot of each watched transfer socket */

    while (!stop_requested) {
        int count = 0, ready;
        int64_t timeout_ms = next_timeout_ms(s);
        struct timespec timeout = { .tv_sec = timeout_ms / 1000,
                                    .tv_nsec = timeout_ms % 1000 * 1000000 };

        watch[count++] = (struct pollfd){ .fd = s->listener,
                                          .events = free_slot(s) ? POLLIN : 0 };
        for (int i = 0; i < MAX_TRANSFERS; i++) {
            if (s->transfers[i].sock >= 0) {
                owner[count] = i;
                watch[count++] = (struct pollfd){ .fd = s->transfers[i].sock, .events = POLLIN };
            }
        }
        /* SIGINT and SIGTERM are blocked everywhere but inside ppoll(): a signal that comes
         * while we work waits, and interrupts the next ppoll() at once. With poll() and a
         * flag alone, one arriving just before the call would wait for the next datagram. */
        ready = ppoll(watch, (nfds_t)count, timeout_ms < 0 ? NULL : &timeout, wait_mask);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("server: ppoll");
            return -1;
        }
        for (int k = 1; k < count; k++) {
            struct transfer *t = &s->transfers[owner[k]];
            if (watch[k].revents != 0 && t->sock == watch[k].fd)
                on_readable(s, t);
        }
        if (watch[0].revents & POLLIN)
            on_requests(s);
        for (int i = 0; i < MAX_TRANSFERS; i++) {
            struct transfer *t = &s->transfers[i];
            if (t->sock >= 0 && t->deadline_us <= monotonic_us())
                on_timeout(t);
        }
    }
    return 0;
}

/* server [PORT [ROOT]]: args.h checks PORT; ROOT is any text (opened below). */
static void parse_arguments(int argc, char **argv, uint16_t *port, const char **root)
{
    const char *synopsis = "[PORT [ROOT]]";

    *port = DEFAULT_TFTP_PORT;
    *root = DEFAULT_ROOT;
    if (argc > 3)
        usage_exit(argv[0], synopsis);
    if (argc > 1 && parse_port(argv[1], port) != 0)
        usage_exit(argv[0], synopsis);
    if (argc > 2)
        *root = argv[2];
}

int main(int argc, char **argv)
{
    static struct server s;   /* static: 64 KiB of buffer is better off the stack */
    struct sockaddr_in address = { .sin_family = AF_INET };
    struct sigaction stop = { .sa_handler = on_stop_signal }, ignore = { .sa_handler = SIG_IGN };
    sigset_t stop_signals, wait_mask;
    const char *root;
    uint16_t port;
    int reuse = 1;
    int status = EXIT_FAILURE;

    parse_arguments(argc, argv, &port, &root);
    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */
    s.listener = -1;
    for (int i = 0; i < MAX_TRANSFERS; i++)
        s.transfers[i] = (struct transfer){ .sock = -1, .file_fd = -1, .dir_fd = -1 };

    /* Block the stop signals before anything else: from here on, one that arrives is kept
     * pending until ppoll() lets it in (see serve()). */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigemptyset(&stop.sa_mask);
    sigemptyset(&ignore.sa_mask);
    if (sigprocmask(SIG_BLOCK, &stop_signals, &wait_mask) < 0 ||
        sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0) {
        perror("server: signals");
        return EXIT_FAILURE;
    }
    /* A file larger than the limit set by `ulimit -f` raises SIGXFSZ, which kills; ignored,
     * write() fails with EFBIG instead, and only that transfer ends. */
    if (sigaction(SIGXFSZ, &ignore, NULL) < 0) {
        perror("server: signals");
        return EXIT_FAILURE;
    }

    s.root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s.root_fd < 0) {
        fprintf(stderr, "server: cannot serve %s: %s\n", root, strerror(errno));
        return EXIT_FAILURE;
    }
    s.listener = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s.listener < 0) {
        perror("server: socket");
        goto cleanup;
    }
    if (setsockopt(s.listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto cleanup;
    }
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons(port);
    if (bind(s.listener, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }
    printf("TFTP server on port %u, serving %s.\n", (unsigned)port, root);

    if (serve(&s, &wait_mask) == 0)
        status = EXIT_SUCCESS;
    for (int i = 0; i < MAX_TRANSFERS; i++) {
        struct transfer *t = &s.transfers[i];
        if (t->sock < 0)
            continue;
        if (t->phase == PHASE_DALLYING)
            release(t);
        else
            fail(t, TFTP_EUNDEF, "server stopped");
    }
    printf("TFTP server stopped.\n");

cleanup:
    if (s.listener >= 0)
        close(s.listener);
    close(s.root_fd);
    return status;
}
