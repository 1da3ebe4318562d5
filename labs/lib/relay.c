/*
 * relay.c — the harness's network-fault relay (not a lab: students never see it).
 *
 *   relay --proto tcp|udp --listen PORT --to PORT [--seed N] [--log FILE] [faults...]
 *
 * The kernel here has no netem, so the tests put this program between a client and a server
 * to make the network misbehave on purpose: the client talks to 127.0.0.1:--listen, the relay
 * talks to the server at 127.0.0.1:--to, and faults are applied on the way.
 *
 * TCP faults (both directions):
 *   --split N       forward every chunk read in pieces of at most N bytes, each its own send()
 *                   with TCP_NODELAY and a short pause between pieces, so the far side really
 *                   receives separate segments
 *   --coalesce MS   hold what arrives for up to MS ms, then forward it in one send()
 *   --delay MS      forward every chunk MS ms after it arrived
 * UDP faults (each direction independently, with its own random stream):
 *   --drop P  --dup P  --reorder P   probabilities in [0,1]; a reordered datagram is held back
 *                   until the next datagram not held itself has passed, or REORDER_HOLD_MS
 *   --delay MS      forward every datagram MS ms after it arrived
 *   --drop-nth KIND:N[:DIR]          drop exactly the N-th datagram (from 1) whose first bytes
 *                   are KIND (1 to 4 bytes; empty KIND: any datagram), counted per direction;
 *                   DIR is c2s or s2c (default: both); may be given up to MAX_RULES times
 *   --c2s-only, --s2c-only           drop, dup, reorder and delay only one way
 *
 * TCP: one client is accepted, then the relay connects to the server and copies both ways
 * until both sides have closed; an EOF becomes shutdown(SHUT_WR) towards the other side, and a
 * reset becomes a reset (SO_LINGER 0) on the other side, so "peer vanished" still shows.
 * UDP: the client's address is learnt from its datagrams; the relay runs until SIGTERM/SIGINT.
 *
 * Randomness comes only from --seed, so a failing case replays. The log has one line per
 * chunk or datagram: "<seconds> <c2s|s2c> <size> "<first 16 bytes>"[...] <fate>".
 * Exit status: 0 when done or stopped by a signal, 1 when a call failed, 2 on bad arguments.
 */
#define _DEFAULT_SOURCE            /* MSG_DONTWAIT, MSG_NOSIGNAL, SO_LINGER on glibc */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_RULES 16             /* --drop-nth options accepted */
#define KIND_MAX 4               /* the wire formats' tags are 4 bytes: "DATA", "ACK ", "DONE" */
#define SHOWN_BYTES 16           /* bytes of each chunk or datagram shown in the log */
#define CHUNK_CAP 65536          /* bytes one TCP read may bring in */
#define MAX_CHUNKS 32            /* TCP chunks queued per direction before we stop reading:
                                    the sender then feels the receiver's pace, as it would */
#define SPLIT_PAUSE_US 2000      /* between split pieces: long enough for the receiver's
                                    recv() to return each piece on its own */
#define DATAGRAM_MAX 65536       /* more than any UDP payload (65507 bytes over IPv4) */
#define UDP_BATCH 64             /* datagrams read per socket per turn, so neither side starves */
#define UDP_BUFFER_BYTES (2 << 20) /* the relay's socket buffers: a burst (lab 05 sends without
                                    waiting) must overflow the receiver's buffer, not ours */
#define REORDER_HOLD_MS 30       /* a held datagram waits at most this long for a successor */
#define PROGRESS_TIMEOUT_MS 1000 /* poll() wakes at least this often to check for signals */
#define US_PER_MS 1000
#define US_PER_S 1000000
#define NS_PER_US 1000

enum direction { C2S, S2C, NDIR };
static const char *const DIRECTION_NAME[NDIR] = { "c2s", "s2c" };

/* Socket roles in TCP mode; the direction that reads from a socket has the same index. */
enum side { CLIENT = C2S, SERVER = S2C };

struct nth_rule {
    unsigned char kind[KIND_MAX];
    size_t kind_len;              /* 0: any datagram */
    unsigned long n;              /* drop the n-th match (1-based) */
    unsigned directions;          /* bit (1 << direction) */
    unsigned long seen[NDIR];     /* matches so far, counted per direction */
    char text[32];                /* as given, for the log */
};

struct options {
    int udp;
    unsigned listen_port, to_port;
    uint64_t seed;
    const char *log_path;
    size_t split;                 /* 0: off */
    long coalesce_ms;
    long delay_ms;
    double drop, dup, reorder;
    unsigned fault_directions;    /* where drop, dup, reorder and delay apply */
    struct nth_rule rules[MAX_RULES];
    size_t nrules;
};

static volatile sig_atomic_t stop_requested;
static FILE *log_file;
static int64_t start_us;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer; a wall clock could jump. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / NS_PER_US;
}

/* --- randomness: splitmix64, one stream per direction --------------------------------------
 * A separate stream per direction, and always the same number of draws per datagram, make the
 * fate of the k-th datagram of a direction depend on the seed and k only, not on how the two
 * directions happened to interleave. */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1): the top 53 bits fill the mantissa exactly. */
static double random_unit(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* --- the log -------------------------------------------------------------------------------- */

/* Writes the first SHOWN_BYTES of `data` as a quoted C-like string, "..." after it if cut. */
static void log_bytes(const unsigned char *data, size_t len)
{
    size_t shown = len < SHOWN_BYTES ? len : SHOWN_BYTES;

    fputc('"', log_file);
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = data[i];
        if (c == '"' || c == '\\')
            fprintf(log_file, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", log_file);
        else if (c == '\t')
            fputs("\\t", log_file);
        else if (c == '\r')
            fputs("\\r", log_file);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, log_file);
        else
            fprintf(log_file, "\\x%02x", c);
    }
    fputs(len > shown ? "\"..." : "\"", log_file);
}

static void log_line(enum direction dir, const unsigned char *data, size_t len,
                     const char *fate_format, ...)
{
    va_list ap;
    int64_t elapsed;

    if (log_file == NULL)
        return;
    elapsed = now_us() - start_us;
    fprintf(log_file, "%lld.%03lld %s %zu ", (long long)(elapsed / US_PER_S),
            (long long)(elapsed % US_PER_S / US_PER_MS), DIRECTION_NAME[dir], len);
    log_bytes(data, len);
    fputc(' ', log_file);
    va_start(ap, fate_format);
    vfprintf(log_file, fate_format, ap);
    va_end(ap);
    fputc('\n', log_file);   /* the stream is line-buffered: this writes the line out */
}

/* --- arguments ------------------------------------------------------------------------------ */

static void print_usage(FILE *out)
{
    fputs("usage: relay --proto tcp|udp --listen PORT --to PORT [--seed N] [--log FILE]\n"
          "  tcp faults: [--split N] [--coalesce MS] [--delay MS]\n"
          "  udp faults: [--drop P] [--dup P] [--reorder P] [--delay MS]\n"
          "              [--drop-nth KIND:N[:c2s|s2c]]... [--c2s-only | --s2c-only]\n", out);
}

/* Bad arguments: say why, then how to call us, and exit 2. */
static void usage(const char *why, ...)
{
    va_list ap;

    fputs("relay: ", stderr);
    va_start(ap, why);
    vfprintf(stderr, why, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_usage(stderr);
    exit(2);
}

/* A whole decimal number in [min, max], nothing else (no sign, no spaces, no suffix). */
static int parse_number(const char *text, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    char *end;
    unsigned long long value;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

static int parse_probability(const char *text, double *out)
{
    char *end;
    double value;

    if (text[0] == '\0')
        return -1;
    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !(value >= 0.0 && value <= 1.0))  /* NaN fails too */
        return -1;
    *out = value;
    return 0;
}

/* KIND:N[:DIR], split from the right so that the kind is taken literally. */
static int parse_nth_rule(const char *text, struct nth_rule *rule)
{
    char copy[64];
    char *colon;
    unsigned long long n;

    if (strlen(text) >= sizeof copy)
        return -1;
    strcpy(copy, text);
    memset(rule, 0, sizeof *rule);
    rule->directions = (1u << C2S) | (1u << S2C);
    colon = strrchr(copy, ':');
    if (colon == NULL)
        return -1;
    if (strcmp(colon + 1, "c2s") == 0 || strcmp(colon + 1, "s2c") == 0) {
        rule->directions = 1u << (strcmp(colon + 1, "c2s") == 0 ? C2S : S2C);
        *colon = '\0';
        colon = strrchr(copy, ':');
        if (colon == NULL)
            return -1;
    }
    if (parse_number(colon + 1, 1, ULONG_MAX, &n) < 0)
        return -1;
    *colon = '\0';
    if (strlen(copy) > KIND_MAX)
        return -1;
    rule->n = (unsigned long)n;
    rule->kind_len = strlen(copy);
    memcpy(rule->kind, copy, rule->kind_len);
    snprintf(rule->text, sizeof rule->text, "%s", text);
    return 0;
}

static void parse_args(int argc, char **argv, struct options *opts)
{
    int have_proto = 0, tcp_fault = 0, udp_fault = 0;
    unsigned long long number;

    memset(opts, 0, sizeof *opts);
    opts->seed = 1;
    opts->fault_directions = (1u << C2S) | (1u << S2C);
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        const char *value = NULL;

        if (strcmp(name, "--c2s-only") == 0 || strcmp(name, "--s2c-only") == 0) {
            if (opts->fault_directions != ((1u << C2S) | (1u << S2C)))
                usage("give --c2s-only or --s2c-only, not both");
            opts->fault_directions = 1u << (name[2] == 'c' ? C2S : S2C);
            udp_fault = 1;
            continue;
        }
        if (strcmp(name, "--help") == 0) {
            print_usage(stdout);
            exit(0);
        }
        if (strncmp(name, "--", 2) != 0)
            usage("unexpected argument '%s'", name);
        if (i + 1 >= argc)
            usage("%s needs a value", name);
        value = argv[++i];
        if (strcmp(name, "--proto") == 0) {
            if (strcmp(value, "tcp") != 0 && strcmp(value, "udp") != 0)
                usage("--proto must be tcp or udp, not '%s'", value);
            opts->udp = strcmp(value, "udp") == 0;
            have_proto = 1;
        } else if (strcmp(name, "--listen") == 0 || strcmp(name, "--to") == 0) {
            if (parse_number(value, 1, 65535, &number) < 0)
                usage("%s: '%s' is not a port (1..65535)", name, value);
            *(name[2] == 'l' ? &opts->listen_port : &opts->to_port) = (unsigned)number;
        } else if (strcmp(name, "--seed") == 0) {
            if (parse_number(value, 0, UINT64_MAX, &number) < 0)
                usage("--seed: '%s' is not a whole number", value);
            opts->seed = number;
        } else if (strcmp(name, "--log") == 0) {
            opts->log_path = value;
        } else if (strcmp(name, "--split") == 0) {
            if (parse_number(value, 1, CHUNK_CAP, &number) < 0)
                usage("--split: '%s' is not a size in 1..%d", value, CHUNK_CAP);
            opts->split = (size_t)number;
            tcp_fault = 1;
        } else if (strcmp(name, "--coalesce") == 0 || strcmp(name, "--delay") == 0) {
            if (parse_number(value, 0, 60000, &number) < 0)
                usage("%s: '%s' is not a time in ms (0..60000)", name, value);
            *(name[2] == 'c' ? &opts->coalesce_ms : &opts->delay_ms) = (long)number;
            tcp_fault |= name[2] == 'c';
        } else if (strcmp(name, "--drop") == 0 || strcmp(name, "--dup") == 0
                   || strcmp(name, "--reorder") == 0) {
            double *target = strcmp(name, "--drop") == 0 ? &opts->drop
                             : strcmp(name, "--dup") == 0 ? &opts->dup : &opts->reorder;
            if (parse_probability(value, target) < 0)
                usage("%s: '%s' is not a probability in [0,1]", name, value);
            udp_fault = 1;
        } else if (strcmp(name, "--drop-nth") == 0) {
            if (opts->nrules == MAX_RULES)
                usage("at most %d --drop-nth options", MAX_RULES);
            if (parse_nth_rule(value, &opts->rules[opts->nrules]) < 0)
                usage("--drop-nth: '%s' is not KIND:N[:c2s|s2c] (KIND: at most %d bytes, "
                      "N from 1)", value, KIND_MAX);
            opts->nrules++;
            udp_fault = 1;
        } else {
            usage("unknown option '%s'", name);
        }
    }
    if (!have_proto || opts->listen_port == 0 || opts->to_port == 0)
        usage("--proto, --listen and --to are required");
    if (opts->udp && tcp_fault)
        usage("--split and --coalesce are TCP faults");
    if (!opts->udp && udp_fault)
        usage("--drop, --dup, --reorder, --drop-nth and --c2s-only/--s2c-only are UDP faults");
}

/* --- sockets -------------------------------------------------------------------------------- */

static struct sockaddr_in loopback(unsigned port)
{
    struct sockaddr_in address;

    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons((uint16_t)port);
    return address;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        perror("relay: fcntl O_NONBLOCK");
        return -1;
    }
    return 0;
}

/* Closes `fd` with a reset instead of a FIN: SO_LINGER with a zero timeout discards what is
 * unsent and sends RST, which is what the other side would have seen without the relay. */
static void close_with_reset(int fd)
{
    struct linger abort_now = { .l_onoff = 1, .l_linger = 0 };

    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now) < 0)
        perror("relay: setsockopt SO_LINGER");
    if (close(fd) < 0)
        perror("relay: close");
}

static int poll_timeout_ms(int64_t next_due_us, int64_t now)
{
    int64_t wait_us;

    if (next_due_us == INT64_MAX)
        return PROGRESS_TIMEOUT_MS;
    wait_us = next_due_us - now;
    if (wait_us <= 0)
        return 0;
    if (wait_us >= (int64_t)PROGRESS_TIMEOUT_MS * US_PER_MS)
        return PROGRESS_TIMEOUT_MS;
    return (int)((wait_us + US_PER_MS - 1) / US_PER_MS);   /* round up: never wake early */
}

/* --- TCP mode ------------------------------------------------------------------------------- */

struct chunk {
    struct chunk *next;
    int64_t hold_until_us;        /* --coalesce: later reads join this chunk until then */
    int64_t due_us;               /* not sent before this time */
    size_t len, sent;
    unsigned reads;               /* how many reads joined into it */
    unsigned char data[CHUNK_CAP];
};

/* One direction of the connection: bytes read from sockets[dir] go to sockets[!dir]. */
struct stream {
    struct chunk *head, *tail;
    size_t chunks;
    int64_t next_piece_us;        /* --split: the pause after each piece ends here */
    int blocked;                  /* the destination's send buffer is full: wait for POLLOUT */
    int eof;                      /* the source has shut down its sending side */
    int shut;                     /* ... and we have passed that on */
};

enum tcp_result { TCP_GOING, TCP_DONE, TCP_FAILED };

struct tcp_relay {
    const struct options *opts;
    int fds[NDIR];                /* indexed by enum side */
    struct stream streams[NDIR];  /* indexed by the side they read from */
    int parked[NDIR];             /* a hung-up socket we do not read now: keep it out of poll */
};

static void free_chunks(struct stream *stream)
{
    while (stream->head != NULL) {
        struct chunk *next = stream->head->next;
        free(stream->head);
        stream->head = next;
    }
    stream->tail = NULL;
    stream->chunks = 0;
}

/* Side `from` reset the connection (or failed): reset the other side too, and finish.
 * What `from` sent before its reset still goes first, at once: a receiver reads the data that
 * arrived before a reset, and only then gets ECONNRESET. */
static enum tcp_result tcp_abort(struct tcp_relay *relay, enum side from, int error)
{
    enum side other = from == CLIENT ? SERVER : CLIENT;
    struct stream *pending = &relay->streams[from];

    log_line((enum direction)from, NULL, 0, "reset (%s)", strerror(error));
    while (pending->head != NULL) {
        struct chunk *chunk = pending->head;
        ssize_t sent = send(relay->fds[other], chunk->data + chunk->sent,
                            chunk->len - chunk->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent <= 0)
            break;      /* best effort: the reset that follows discards the rest anyway */
        chunk->sent += (size_t)sent;
        if (chunk->sent < chunk->len)
            break;
        pending->head = chunk->next;
        free(chunk);
    }
    free_chunks(pending);
    close_with_reset(relay->fds[other]);
    relay->fds[other] = -1;
    if (close(relay->fds[from]) < 0)
        perror("relay: close");
    relay->fds[from] = -1;
    return TCP_DONE;
}

static int stream_wants_read(const struct stream *stream)
{
    return !stream->eof && stream->chunks < MAX_CHUNKS;
}

static enum tcp_result tcp_read(struct tcp_relay *relay, enum side from)
{
    const struct options *opts = relay->opts;
    struct stream *stream = &relay->streams[from];
    struct chunk *chunk = stream->tail;
    int64_t now = now_us();
    int joining = chunk != NULL && chunk->sent == 0 && now < chunk->hold_until_us
                  && chunk->len < CHUNK_CAP;
    size_t before;
    ssize_t got;

    if (!joining) {
        chunk = malloc(sizeof *chunk);
        if (chunk == NULL) {
            perror("relay: malloc");
            return TCP_FAILED;
        }
        chunk->next = NULL;
        chunk->hold_until_us = now + opts->coalesce_ms * US_PER_MS;
        chunk->due_us = chunk->hold_until_us + opts->delay_ms * US_PER_MS;
        chunk->len = chunk->sent = 0;
        chunk->reads = 0;
    }
    before = chunk->len;
    got = recv(relay->fds[from], chunk->data + before, CHUNK_CAP - before, 0);
    if (got <= 0) {
        int error = errno;
        if (!joining)
            free(chunk);
        if (got == 0) {
            stream->eof = 1;
            return TCP_GOING;
        }
        if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR)
            return TCP_GOING;
        return tcp_abort(relay, from, error);
    }
    chunk->len += (size_t)got;
    chunk->reads++;
    if (!joining) {
        if (stream->tail != NULL)
            stream->tail->next = chunk;
        else
            stream->head = chunk;
        stream->tail = chunk;
        stream->chunks++;
    }
    if (opts->coalesce_ms > 0)
        log_line((enum direction)from, chunk->data + before, (size_t)got, "held");
    else if (opts->split > 0)
        log_line((enum direction)from, chunk->data, (size_t)got, "split into %zu%s",
                 ((size_t)got + opts->split - 1) / opts->split,
                 opts->delay_ms > 0 ? " delayed" : "");
    else
        log_line((enum direction)from, chunk->data, (size_t)got,
                 opts->delay_ms > 0 ? "delayed" : "sent");
    return TCP_GOING;
}

/* Sends what is due from side `from`'s stream to the other side, until blocked or done. */
static enum tcp_result tcp_write(struct tcp_relay *relay, enum side from)
{
    const struct options *opts = relay->opts;
    struct stream *stream = &relay->streams[from];
    enum side to = from == CLIENT ? SERVER : CLIENT;

    stream->blocked = 0;
    while (stream->head != NULL) {
        struct chunk *chunk = stream->head;
        int64_t now = now_us();
        size_t want = chunk->len - chunk->sent;
        ssize_t sent;

        if (now < chunk->due_us || now < stream->next_piece_us)
            return TCP_GOING;
        if (opts->split > 0 && want > opts->split)
            want = opts->split;
        if (chunk->sent == 0 && opts->coalesce_ms > 0)
            log_line((enum direction)from, chunk->data, chunk->len, "sent (%u reads joined)",
                     chunk->reads);
        sent = send(relay->fds[to], chunk->data + chunk->sent, want, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                stream->blocked = 1;
                return TCP_GOING;
            }
            /* EPIPE, ECONNRESET: the destination is gone; it is the one that reset. */
            return tcp_abort(relay, to, errno);
        }
        chunk->sent += (size_t)sent;
        if (opts->split > 0)
            stream->next_piece_us = now + SPLIT_PAUSE_US;
        if (chunk->sent == chunk->len) {
            stream->head = chunk->next;
            if (stream->head == NULL)
                stream->tail = NULL;
            stream->chunks--;
            free(chunk);
        }
    }
    if (stream->eof && !stream->shut) {
        /* Everything before the EOF is out: pass the half-close on. */
        if (shutdown(relay->fds[to], SHUT_WR) < 0 && errno != ENOTCONN) {
            perror("relay: shutdown");
            return TCP_FAILED;
        }
        stream->shut = 1;
        log_line((enum direction)from, NULL, 0, "eof");
    }
    return TCP_GOING;
}

static int64_t stream_next_due(const struct stream *stream)
{
    const struct chunk *chunk = stream->head;

    if (chunk == NULL || stream->blocked)
        return INT64_MAX;
    return chunk->due_us > stream->next_piece_us ? chunk->due_us : stream->next_piece_us;
}

/* A socket reported an error or a hang-up: find out which, the way recv() would. */
static enum tcp_result tcp_check_error(struct tcp_relay *relay, enum side side)
{
    int error = 0;
    socklen_t len = sizeof error;

    if (getsockopt(relay->fds[side], SOL_SOCKET, SO_ERROR, &error, &len) < 0) {
        perror("relay: getsockopt SO_ERROR");
        return TCP_FAILED;
    }
    if (error != 0)
        return tcp_abort(relay, side, error);
    return TCP_GOING;
}

static enum tcp_result tcp_turn(struct tcp_relay *relay)
{
    struct pollfd pfds[NDIR];
    int64_t next_due = INT64_MAX;
    enum tcp_result result;
    int ready;

    for (int side = 0; side < NDIR; side++) {
        const struct stream *in = &relay->streams[side];
        const struct stream *out = &relay->streams[!side];   /* writes to this side */
        int64_t due = stream_next_due(in);

        pfds[side].fd = relay->fds[side];
        pfds[side].events = (short)((stream_wants_read(in) ? POLLIN : 0)
                                    | (out->blocked ? POLLOUT : 0));
        pfds[side].revents = 0;
        if (pfds[side].events != 0)
            relay->parked[side] = 0;
        else if (relay->parked[side])
            pfds[side].fd = -1;
        if (due < next_due)
            next_due = due;
    }
    ready = poll(pfds, NDIR, poll_timeout_ms(next_due, now_us()));
    if (ready < 0) {
        if (errno == EINTR)
            return TCP_GOING;
        perror("relay: poll");
        return TCP_FAILED;
    }
    for (int side = 0; side < NDIR; side++) {
        short revents = pfds[side].revents;

        if ((revents & (POLLIN | POLLHUP | POLLERR)) && (pfds[side].events & POLLIN)) {
            /* recv() returns the data that arrived before an error, then the error. */
            result = tcp_read(relay, (enum side)side);
        } else if (revents & POLLERR) {
            result = tcp_check_error(relay, (enum side)side);
        } else {
            if (revents & POLLHUP)
                relay->parked[side] = 1;
            result = TCP_GOING;
        }
        if (result != TCP_GOING)
            return result;
    }
    for (int side = 0; side < NDIR; side++) {
        result = tcp_write(relay, (enum side)side);
        if (result != TCP_GOING)
            return result;
    }
    if (relay->streams[CLIENT].shut && relay->streams[SERVER].shut)
        return TCP_DONE;
    return TCP_GOING;
}

static int accept_client(int listener)
{
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd >= 0)
            return fd;
        if (errno != EINTR || stop_requested) {
            if (errno != EINTR)
                perror("relay: accept");
            return -1;
        }
    }
}

static int run_tcp(const struct options *opts)
{
    struct tcp_relay relay = { .opts = opts, .fds = { -1, -1 } };
    struct sockaddr_in address = loopback(opts->listen_port);
    int listener = -1, one = 1, status = 1;
    enum tcp_result result = TCP_GOING;

    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) {
        perror("relay: socket");
        goto cleanup;
    }
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        perror("relay: setsockopt SO_REUSEADDR");
        goto cleanup;
    }
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("relay: bind");
        goto cleanup;
    }
    if (listen(listener, 1) < 0) {
        perror("relay: listen");
        goto cleanup;
    }
    relay.fds[CLIENT] = accept_client(listener);
    if (relay.fds[CLIENT] < 0) {
        status = stop_requested ? 0 : 1;
        goto cleanup;
    }
    /* One client only: a second connection attempt is refused, as by a one-client server. */
    if (close(listener) < 0)
        perror("relay: close");
    listener = -1;

    relay.fds[SERVER] = socket(AF_INET, SOCK_STREAM, 0);
    if (relay.fds[SERVER] < 0) {
        perror("relay: socket");
        goto cleanup;
    }
    address = loopback(opts->to_port);
    if (connect(relay.fds[SERVER], (struct sockaddr *)&address, sizeof address) < 0) {
        perror("relay: connect to the server");
        close_with_reset(relay.fds[CLIENT]);   /* the client sees the refusal as a reset */
        relay.fds[CLIENT] = -1;
        goto cleanup;
    }
    for (int side = 0; side < NDIR; side++) {
        /* Never let Nagle's algorithm merge or hold segments: the relay decides that. */
        if (setsockopt(relay.fds[side], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
            perror("relay: setsockopt TCP_NODELAY");
            goto cleanup;
        }
        if (set_nonblocking(relay.fds[side]) < 0)
            goto cleanup;
    }
    while (result == TCP_GOING && !stop_requested)
        result = tcp_turn(&relay);
    status = result == TCP_FAILED ? 1 : 0;

cleanup:
    for (int side = 0; side < NDIR; side++) {
        free_chunks(&relay.streams[side]);
        if (relay.fds[side] >= 0 && close(relay.fds[side]) < 0)
            perror("relay: close");
    }
    if (listener >= 0 && close(listener) < 0)
        perror("relay: close");
    return status;
}

/* --- UDP mode ------------------------------------------------------------------------------- */

struct datagram {
    struct datagram *next;
    int64_t due_us;
    unsigned copies;              /* 2 when duplicated */
    int reorder;                  /* to be held back behind its successor */
    size_t len;
    unsigned char data[];
};

struct udp_relay {
    const struct options *opts;
    struct nth_rule rules[MAX_RULES];
    int client_fd;                /* bound to --listen: the client's side */
    int server_fd;                /* connected to --to: the server's side */
    struct sockaddr_in client;
    int have_client;
    uint64_t rng[NDIR];
    struct datagram *head[NDIR], *tail[NDIR];   /* delayed datagrams, in arrival order */
    struct datagram *held[NDIR], *held_tail[NDIR];  /* reordered datagrams waiting */
    int64_t held_until_us[NDIR];                /* when the first held one goes anyway */
};

/* Sends one datagram on its way. A server that is not (or no longer) listening is a loss,
 * as on a real network: its ICMP "port unreachable" comes back as ECONNREFUSED. */
static int udp_transmit(struct udp_relay *relay, enum direction dir,
                        const unsigned char *data, size_t len, unsigned copies)
{
    for (unsigned i = 0; i < copies; i++) {
        ssize_t sent;
        do {
            if (dir == C2S)
                sent = send(relay->server_fd, data, len, 0);
            else
                sent = sendto(relay->client_fd, data, len, 0,
                              (const struct sockaddr *)&relay->client, sizeof relay->client);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0 && errno != ECONNREFUSED && errno != ENOBUFS) {
            perror(dir == C2S ? "relay: send to the server" : "relay: sendto the client");
            return -1;
        }
    }
    return 0;
}

/* Sends the held datagrams, in the order they were held: a datagram has just passed them. */
static int udp_release_held(struct udp_relay *relay, enum direction dir)
{
    int rc = 0;

    while (relay->held[dir] != NULL) {
        struct datagram *held = relay->held[dir];
        relay->held[dir] = held->next;
        if (rc == 0)
            rc = udp_transmit(relay, dir, held->data, held->len, held->copies);
        free(held);
    }
    relay->held_tail[dir] = NULL;
    return rc;
}

/* Sends `item` (freed here) and then what was held back behind it; or, for a datagram to
 * reorder, holds it back until the next one has gone (or REORDER_HOLD_MS have passed). */
static int udp_forward(struct udp_relay *relay, enum direction dir, struct datagram *item)
{
    int rc;

    item->next = NULL;
    if (item->reorder) {
        if (relay->held[dir] == NULL) {
            relay->held[dir] = item;
            relay->held_until_us[dir] = now_us() + REORDER_HOLD_MS * US_PER_MS;
        } else {
            relay->held_tail[dir]->next = item;
        }
        relay->held_tail[dir] = item;
        return 0;
    }
    rc = udp_transmit(relay, dir, item->data, item->len, item->copies);
    free(item);
    if (rc < 0)
        return rc;
    return udp_release_held(relay, dir);
}

static const struct nth_rule *udp_match_rule(struct udp_relay *relay, enum direction dir,
                                             const unsigned char *data, size_t len)
{
    const struct nth_rule *hit = NULL;

    for (size_t i = 0; i < relay->opts->nrules; i++) {
        struct nth_rule *rule = &relay->rules[i];
        if (!(rule->directions & (1u << dir)) || len < rule->kind_len
            || memcmp(data, rule->kind, rule->kind_len) != 0)
            continue;
        if (++rule->seen[dir] == rule->n && hit == NULL)
            hit = rule;
    }
    return hit;
}

/* "sent", or the faults applied joined by '+': "dup", "dup+reordered", "delayed", ... */
static const char *fate_text(int dup, int reorder, int delayed)
{
    static const char *const FATES[8] = {
        "sent", "delayed", "reordered", "reordered+delayed",
        "dup", "dup+delayed", "dup+reordered", "dup+reordered+delayed",
    };

    return FATES[(dup ? 4 : 0) | (reorder ? 2 : 0) | (delayed ? 1 : 0)];
}

static int udp_arrived(struct udp_relay *relay, enum direction dir,
                       const unsigned char *data, size_t len)
{
    const struct options *opts = relay->opts;
    const struct nth_rule *rule = udp_match_rule(relay, dir, data, len);
    /* Always three draws, used or not: the k-th datagram's fate depends on k only. */
    double drop_draw = random_unit(&relay->rng[dir]);
    double dup_draw = random_unit(&relay->rng[dir]);
    double reorder_draw = random_unit(&relay->rng[dir]);
    int faulty = (opts->fault_directions & (1u << dir)) != 0;
    long delay_ms = faulty ? opts->delay_ms : 0;
    unsigned copies = faulty && dup_draw < opts->dup ? 2 : 1;
    int reorder = faulty && reorder_draw < opts->reorder;
    struct datagram *item;

    if (rule != NULL) {
        log_line(dir, data, len, "dropped (drop-nth %s)", rule->text);
        return 0;
    }
    if (faulty && drop_draw < opts->drop) {
        log_line(dir, data, len, "dropped");
        return 0;
    }
    if (dir == S2C && !relay->have_client) {
        log_line(dir, data, len, "dropped (no client address yet)");
        return 0;
    }
    log_line(dir, data, len, "%s", fate_text(copies > 1, reorder, delay_ms > 0));
    if (!reorder && delay_ms == 0 && relay->head[dir] == NULL) {
        /* The common case, without a copy: lab 06's benchmark moves 64 MiB this way. */
        if (udp_transmit(relay, dir, data, len, copies) < 0)
            return -1;
        return udp_release_held(relay, dir);
    }
    item = malloc(sizeof *item + len);
    if (item == NULL) {
        perror("relay: malloc");
        return -1;
    }
    item->next = NULL;
    item->due_us = now_us() + delay_ms * US_PER_MS;
    item->copies = copies;
    item->reorder = reorder;
    item->len = len;
    memcpy(item->data, data, len);
    if (delay_ms == 0 && relay->head[dir] == NULL)
        return udp_forward(relay, dir, item);
    if (relay->tail[dir] != NULL)
        relay->tail[dir]->next = item;
    else
        relay->head[dir] = item;
    relay->tail[dir] = item;
    return 0;
}

/* Forwards the delayed datagrams that are due, and held ones that waited long enough. */
static int udp_due(struct udp_relay *relay, int64_t *next_due)
{
    int64_t now = now_us();

    *next_due = INT64_MAX;
    for (int dir = 0; dir < NDIR; dir++) {
        while (relay->head[dir] != NULL && relay->head[dir]->due_us <= now) {
            struct datagram *item = relay->head[dir];
            relay->head[dir] = item->next;
            if (relay->head[dir] == NULL)
                relay->tail[dir] = NULL;
            if (udp_forward(relay, (enum direction)dir, item) < 0)
                return -1;
        }
        if (relay->held[dir] != NULL && relay->held_until_us[dir] <= now
            && udp_release_held(relay, (enum direction)dir) < 0)
            return -1;
        if (relay->head[dir] != NULL && relay->head[dir]->due_us < *next_due)
            *next_due = relay->head[dir]->due_us;
        if (relay->held[dir] != NULL && relay->held_until_us[dir] < *next_due)
            *next_due = relay->held_until_us[dir];
    }
    return 0;
}

/* Reads what is waiting on one side, at most UDP_BATCH datagrams. */
static int udp_receive(struct udp_relay *relay, enum direction dir, unsigned char *buffer)
{
    for (int i = 0; i < UDP_BATCH; i++) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t got;

        if (dir == C2S)
            got = recvfrom(relay->client_fd, buffer, DATAGRAM_MAX, MSG_DONTWAIT,
                           (struct sockaddr *)&from, &from_len);
        else
            got = recv(relay->server_fd, buffer, DATAGRAM_MAX, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            if (errno == ECONNREFUSED)   /* an earlier datagram found no server: a loss */
                continue;
            perror(dir == C2S ? "relay: recvfrom the client" : "relay: recv from the server");
            return -1;
        }
        if (dir == C2S) {
            /* The client is whoever sent last: a client restarted on a new port still works. */
            relay->client = from;
            relay->have_client = 1;
        }
        if (udp_arrived(relay, dir, buffer, (size_t)got) < 0)
            return -1;
    }
    return 0;
}

/* Asks for UDP_BUFFER_BYTES each way; the kernel caps it at net.core.[rw]mem_max. */
static int set_buffers(int fd)
{
    int size = UDP_BUFFER_BYTES;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0
        || setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) < 0) {
        perror("relay: setsockopt SO_RCVBUF/SO_SNDBUF");
        return -1;
    }
    return 0;
}

static int run_udp(const struct options *opts)
{
    struct udp_relay relay = { .opts = opts, .client_fd = -1, .server_fd = -1 };
    struct sockaddr_in address = loopback(opts->listen_port);
    unsigned char *buffer = NULL;
    uint64_t seeder = opts->seed;
    int status = 1;

    memcpy(relay.rules, opts->rules, sizeof relay.rules);
    for (int dir = 0; dir < NDIR; dir++)
        relay.rng[dir] = splitmix64(&seeder);
    buffer = malloc(DATAGRAM_MAX);
    if (buffer == NULL) {
        perror("relay: malloc");
        goto cleanup;
    }
    relay.client_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (relay.client_fd < 0) {
        perror("relay: socket");
        goto cleanup;
    }
    if (bind(relay.client_fd, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("relay: bind");
        goto cleanup;
    }
    relay.server_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (relay.server_fd < 0) {
        perror("relay: socket");
        goto cleanup;
    }
    if (set_buffers(relay.client_fd) < 0 || set_buffers(relay.server_fd) < 0)
        goto cleanup;
    /* Connected: send() needs no address, and only the server's datagrams come in here. */
    address = loopback(opts->to_port);
    if (connect(relay.server_fd, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("relay: connect to the server");
        goto cleanup;
    }
    while (!stop_requested) {
        struct pollfd pfds[NDIR] = {
            { .fd = relay.client_fd, .events = POLLIN },
            { .fd = relay.server_fd, .events = POLLIN },
        };
        int64_t next_due;
        int ready;

        if (udp_due(&relay, &next_due) < 0)
            goto cleanup;
        ready = poll(pfds, NDIR, poll_timeout_ms(next_due, now_us()));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("relay: poll");
            goto cleanup;
        }
        for (int dir = 0; dir < NDIR; dir++) {
            if (pfds[dir].revents != 0 && udp_receive(&relay, (enum direction)dir, buffer) < 0)
                goto cleanup;
        }
    }
    status = 0;

cleanup:
    for (int dir = 0; dir < NDIR; dir++) {
        while (relay.head[dir] != NULL) {
            struct datagram *next = relay.head[dir]->next;
            free(relay.head[dir]);
            relay.head[dir] = next;
        }
        while (relay.held[dir] != NULL) {
            struct datagram *next = relay.held[dir]->next;
            free(relay.held[dir]);
            relay.held[dir] = next;
        }
    }
    free(buffer);
    if (relay.client_fd >= 0 && close(relay.client_fd) < 0)
        perror("relay: close");
    if (relay.server_fd >= 0 && close(relay.server_fd) < 0)
        perror("relay: close");
    return status;
}

int main(int argc, char **argv)
{
    struct options opts;
    struct sigaction action;
    int status;

    start_us = now_us();
    parse_args(argc, argv, &opts);

    /* No SA_RESTART: a signal must interrupt poll() and accept() so that we stop at once. */
    memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) < 0 || sigaction(SIGINT, &action, NULL) < 0) {
        perror("relay: sigaction");
        return 1;
    }
    if (opts.log_path != NULL) {
        log_file = fopen(opts.log_path, "w");
        if (log_file == NULL) {
            perror("relay: fopen the log");
            return 1;
        }
        /* The harness kills the relay with SIGKILL at the end: each line must be out at once. */
        if (setvbuf(log_file, NULL, _IOLBF, 0) != 0) {
            perror("relay: setvbuf");
            fclose(log_file);
            return 1;
        }
    }
    status = opts.udp ? run_udp(&opts) : run_tcp(&opts);
    if (log_file != NULL && fclose(log_file) != 0) {
        perror("relay: fclose the log");
        status = 1;
    }
    return status;
}
