/*
 * Lab 07 — chat room, the server (reference solution).
 *
 *   server [PORT]
 *
 * One thread serves every client at once: poll(2) says which connections can be read or
 * written, and the server does only what can be done at once on each, so that no client can
 * make the others wait. Each client is named guestN (N = 1, 2, ... in order of connection,
 * never reused); each line a client sends reaches every other client as "NAME: line".
 * Commands: /nick NEW, /who, /quit. The server listens on IPv6 and IPv4 at once (one
 * dual-stack socket) and runs until SIGINT or SIGTERM: then it closes every connection,
 * prints "Chat room closed." and exits 0.
 *
 * Why no thread per client: see docs/concepts/multiplexing.md. In short, every message
 * touches every client's state; with one thread, nothing is shared and nothing needs a lock.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "lines.h"

#define BACKLOG 128            /* connections the kernel may complete before we accept them:
                                  a burst of connects waits there, not refused */
#define OUTPUT_MAX (64 * 1024) /* bytes that may wait for one client; past that it is dropped */
#define NICK_MAX 16            /* the longest name /nick accepts */
#define NAME_SIZE 32           /* "guest" + the 20 digits of any unsigned long, or a /nick
                                  name, + '\0' */
#define ADDRESS_SIZE (INET6_ADDRSTRLEN + sizeof "[]:65535")  /* "[address]:port" + '\0' */
#define ACCEPT_RETRY_MS 1000   /* out of descriptors: how long before accept() is tried again */
#define FIRST_CLIENT_SLOT 2    /* pollfd 0: the signal pipe, 1: the listening socket */
/* The longest line the server ever sends: "NAME: " and a client's line, with its '\n'. */
#define MESSAGE_SIZE (NAME_SIZE + sizeof ": " + LINE_MAX_BYTES + 1)

/* What is known about one connected client. */
struct client {
    int fd;
    char name[NAME_SIZE];
    char address[ADDRESS_SIZE];     /* where it connected from, for the server's log */
    struct line_buffer input;       /* bytes received, not yet a whole line */
    /* The output queue: bytes accepted for this client that its socket could not take yet.
     * They are out[out_start] up to out[out_end]; out is grown as needed, up to OUTPUT_MAX. */
    char *out;
    size_t out_start, out_end, out_capacity;
    /* Set when the client must go: it left, or it broke a rule. It is removed only once the
     * current round is over, so that the arrays being walked never change underneath. */
    bool gone;
    bool dropped;                   /* it broke a rule (else it left) */
    const char *reason;             /* why it was dropped */
};

/* Everything the server holds. */
struct room {
    int listener;
    bool accepting;                 /* false while we are out of descriptors */
    struct client **clients;        /* in order of joining (that is the order of /who) */
    size_t count, capacity;
    unsigned long next_guest;       /* N of the next guestN; never goes back */
    struct pollfd *fds;             /* rebuilt before every poll() */
    size_t fds_capacity;
};

/*
 * SIGINT and SIGTERM. A signal handler may run between any two instructions of the main loop,
 * so it may only do what is async-signal-safe (signal-safety(7)): it writes one byte into a
 * pipe whose other end is in the poll() set. poll() then wakes up, whenever the signal came —
 * even just before poll() was called, which a flag checked before poll() would miss.
 */
static int signal_pipe[2] = { -1, -1 };

static void on_signal(int signal_number)
{
    int saved = errno;  /* write() may change errno under the interrupted code's feet */
    unsigned char byte = (unsigned char)signal_number;
    ssize_t ignored = write(signal_pipe[1], &byte, 1);  /* pipe full: a byte is there already */

    (void)ignored;
    errno = saved;
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static int catch_signals(void)
{
    struct sigaction action = { 0 };

    if (pipe(signal_pipe) < 0) {
        perror("server: pipe");
        return -1;
    }
    /* Non-blocking both ends: the handler must never block on a full pipe, and draining it
     * must stop when it is empty. */
    if (set_nonblocking(signal_pipe[0]) < 0 || set_nonblocking(signal_pipe[1]) < 0) {
        perror("server: fcntl O_NONBLOCK");
        return -1;
    }
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    /* SA_RESTART: a printf() to a slow pipe is resumed, not cut short, after the handler.
     * poll() itself is never restarted (signal(7)): it returns EINTR, and we look again. */
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, NULL) < 0 || sigaction(SIGTERM, &action, NULL) < 0) {
        perror("server: sigaction");
        return -1;
    }
    return 0;
}

/*
 * The listening socket: IPv6, with IPV6_V6ONLY off, so that IPv4 clients reach it too (as
 * IPv4-mapped addresses, ::ffff:127.0.0.1). Linux's default for that option is a system
 * setting (net.ipv6.bindv6only), so we set it ourselves. Returns the socket or -1.
 */
static int open_listener(uint16_t port)
{
    struct sockaddr_in6 address = { 0 };
    int off = 0;
    int on = 1;
    int listener = socket(AF_INET6, SOCK_STREAM, 0);

    if (listener < 0) {
        perror("server: socket");
        return -1;
    }
    if (setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0) {
        perror("server: setsockopt IPV6_V6ONLY");
        goto fail;
    }
    /* A restart right after a room closed must not fail with EADDRINUSE while the old
     * connections sit in TIME_WAIT on this port. */
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto fail;
    }
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_any;      /* "::": every interface, IPv6 and IPv4 */
    address.sin6_port = htons(port);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto fail;
    }
    if (listen(listener, BACKLOG) < 0) {
        perror("server: listen");
        goto fail;
    }
    /* A client may reset its connection between poll() saying "ready" and our accept():
     * a blocking accept() would then wait for the next client, and the room with it. */
    if (set_nonblocking(listener) < 0) {
        perror("server: fcntl O_NONBLOCK");
        goto fail;
    }
    return listener;
fail:
    close(listener);
    return -1;
}

/* "a.b.c.d:port" or "[v6 address]:port". An IPv4 client of the dual-stack socket shows up as
 * an IPv4-mapped IPv6 address (::ffff:a.b.c.d): we print the IPv4 address it stands for. */
static void format_address(const struct sockaddr_in6 *peer, char *text, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = ntohs(peer->sin6_port);

    if (IN6_IS_ADDR_V4MAPPED(&peer->sin6_addr)) {
        struct in_addr v4;
        memcpy(&v4, &peer->sin6_addr.s6_addr[12], sizeof v4);  /* its last 4 bytes */
        inet_ntop(AF_INET, &v4, host, sizeof host);
        snprintf(text, size, "%s:%u", host, port);
    } else {
        inet_ntop(AF_INET6, &peer->sin6_addr, host, sizeof host);
        snprintf(text, size, "[%s]:%u", host, port);
    }
}

/* --- output queues ----------------------------------------------------------------------- */

static size_t queued(const struct client *client)
{
    return client->out_end - client->out_start;
}

/* Marks `client` to be removed after this round. Its queue is dropped at once: nothing more
 * will be sent to it. */
static void mark_gone(struct client *client, bool dropped, const char *reason)
{
    if (client->gone)
        return;
    client->gone = true;
    client->dropped = dropped;
    client->reason = reason;
    client->out_start = client->out_end = 0;
}

/*
 * Queues `length` bytes for `client`; they are sent when its socket can take them (flush()).
 * Never waits: a client that does not read cannot hold the server. Past OUTPUT_MAX bytes
 * waiting, the client is dropped instead: its queue would otherwise grow without bound.
 */
static void enqueue(struct client *client, const char *bytes, size_t length)
{
    if (client->gone)
        return;
    if (queued(client) + length > OUTPUT_MAX) {
        mark_gone(client, true, "more than 64 KiB waiting (it does not read)");
        return;
    }
    if (client->out_end + length > client->out_capacity) {
        /* Move what waits to the front; grow the buffer if that is not enough. (Not before
         * the first realloc(): out is NULL then, and even a 0-byte memmove from NULL is
         * undefined behaviour.) */
        if (client->out_start > 0) {
            memmove(client->out, client->out + client->out_start, queued(client));
            client->out_end -= client->out_start;
            client->out_start = 0;
        }
        if (client->out_end + length > client->out_capacity) {
            size_t capacity = client->out_capacity ? client->out_capacity : 1024;
            while (capacity < client->out_end + length)
                capacity *= 2;
            if (capacity > OUTPUT_MAX)
                capacity = OUTPUT_MAX;
            char *grown = realloc(client->out, capacity);
            if (grown == NULL) {
                mark_gone(client, true, "out of memory");
                return;
            }
            client->out = grown;
            client->out_capacity = capacity;
        }
    }
    memcpy(client->out + client->out_end, bytes, length);
    client->out_end += length;
}

static void enqueue_text(struct client *client, const char *text)
{
    enqueue(client, text, strlen(text));
}

/* Sends as much of the client's queue as its socket takes now, without waiting. */
static void flush(struct client *client)
{
    while (!client->gone && queued(client) > 0) {
        /* MSG_NOSIGNAL: a client that has gone gives EPIPE here, not a SIGPIPE that would
         * end the whole server. */
        ssize_t sent = send(client->fd, client->out + client->out_start, queued(client),
                            MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;  /* its socket buffer is full: poll() says when to go on (POLLOUT) */
            mark_gone(client, false, NULL);  /* EPIPE, ECONNRESET: it has gone */
            return;
        }
        client->out_start += (size_t)sent;
    }
    client->out_start = client->out_end = 0;
}

/* --- the room ---------------------------------------------------------------------------- */

/* Sends `length` bytes to every client but `except` (NULL: to all). */
static void broadcast(struct room *room, const struct client *except, const char *bytes,
                      size_t length)
{
    for (size_t i = 0; i < room->count; i++)
        if (room->clients[i] != except)
            enqueue(room->clients[i], bytes, length);
}

static void broadcast_text(struct room *room, const struct client *except, const char *text)
{
    broadcast(room, except, text, strlen(text));
}

static bool name_in_use(const struct room *room, const char *name)
{
    for (size_t i = 0; i < room->count; i++)
        if (!room->clients[i]->gone && strcmp(room->clients[i]->name, name) == 0)
            return true;
    return false;
}

/* Whether /nick may give `name`: 1 to NICK_MAX of A-Z a-z 0-9 _ -, not in use, and not of
 * the form guestN, which the server hands out itself and never reuses. */
static bool name_available(const struct room *room, const char *name, size_t length)
{
    if (length < 1 || length > NICK_MAX)
        return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    if (strncmp(name, "guest", strlen("guest")) == 0 && length > strlen("guest") &&
        strspn(name + strlen("guest"), "0123456789") == length - strlen("guest"))
        return false;
    return !name_in_use(room, name);
}

static void command_nick(struct room *room, struct client *client, const char *name,
                         size_t length)
{
    char line[2 * NAME_SIZE + sizeof "*  is now \n"];

    if (!name_available(room, name, length)) {
        /* In pieces: what was asked for may be long and hold any byte. */
        enqueue_text(client, "* name ");
        enqueue(client, name, length);
        enqueue_text(client, " is not available\n");
        return;
    }
    printf("%s is now %s\n", client->name, name);
    snprintf(line, sizeof line, "* %s is now %s\n", client->name, name);
    broadcast_text(room, NULL, line);
    memcpy(client->name, name, length);
    client->name[length] = '\0';
}

static void command_who(struct room *room, struct client *client)
{
    enqueue_text(client, "* online: ");
    for (size_t i = 0, shown = 0; i < room->count; i++) {
        if (room->clients[i]->gone)
            continue;
        if (shown++ > 0)
            enqueue_text(client, ", ");
        enqueue_text(client, room->clients[i]->name);
    }
    enqueue_text(client, "\n");
}

/* One whole line from `client` (without its '\n'): a command, or a message for the others. */
static void handle_line(struct room *room, struct client *client, const char *line,
                        size_t length)
{
    if (length > 0 && line[0] == '/') {
        size_t word = strcspn(line, " ");   /* the command: up to the first space */
        const char *rest = line[word] == ' ' ? line + word + 1 : line + word;

        if (word == strlen("/nick") && strncmp(line, "/nick", word) == 0) {
            command_nick(room, client, rest, length - (size_t)(rest - line));
        } else if (word == strlen("/who") && strncmp(line, "/who", word) == 0) {
            command_who(room, client);
        } else if (word == strlen("/quit") && strncmp(line, "/quit", word) == 0) {
            mark_gone(client, false, NULL);
        } else {
            enqueue_text(client, "* unknown command ");
            enqueue(client, line, word);
            enqueue_text(client, "\n");
        }
        return;
    }
    /* "NAME: line\n", built once and copied into every other client's queue. The line may
     * hold any byte but '\n' (even '\0'): memcpy, never a %s. */
    char message[MESSAGE_SIZE];
    size_t name_length = strlen(client->name);
    memcpy(message, client->name, name_length);
    memcpy(message + name_length, ": ", 2);
    memcpy(message + name_length + 2, line, length);
    message[name_length + 2 + length] = '\n';
    broadcast(room, client, message, name_length + 2 + length + 1);
}

/* The client's socket is readable: one recv() of what is there, then every whole line in it.
 * One recv() a round, not "until EAGAIN": a client that sends without pause would otherwise
 * keep the server to itself. */
static void receive(struct room *room, struct client *client)
{
    size_t room_left;
    char *space = line_buffer_space(&client->input, &room_left);
    ssize_t got = recv(client->fd, space, room_left, 0);

    if (got < 0) {
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            mark_gone(client, false, NULL);  /* ECONNRESET: it vanished; it has left */
        return;
    }
    if (got == 0) {
        mark_gone(client, false, NULL);  /* end of its input (a half line is dropped) */
        return;
    }
    line_buffer_added(&client->input, (size_t)got);
    for (;;) {
        char *line;
        size_t length;
        enum line_status status = line_buffer_take(&client->input, &line, &length);
        if (status == LINE_NONE || client->gone)
            return;
        if (status == LINE_TOO_LONG) {
            mark_gone(client, true, "line longer than 4095 bytes");
            return;
        }
        handle_line(room, client, line, length);
    }
}

/* Accepts every connection waiting (the listener is non-blocking): each becomes guestN. */
static void accept_clients(struct room *room)
{
    for (;;) {
        struct sockaddr_in6 peer;
        socklen_t peer_length = sizeof peer;
        int fd = accept(room->listener, (struct sockaddr *)&peer, &peer_length);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the connection stays in the backlog, and the listener
                 * stays readable. Polling it now would only spin: stop until someone
                 * leaves. */
                perror("server: accept (waiting for a client to leave)");
                room->accepting = false;
            } else if (errno == EINTR || errno == ECONNABORTED) {
                continue;  /* a signal, or a client that gave up before we took it */
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                perror("server: accept");
            }
            return;
        }
        struct client *client = calloc(1, sizeof *client);
        if (client == NULL || set_nonblocking(fd) < 0) {
            perror(client == NULL ? "server: calloc" : "server: fcntl O_NONBLOCK");
            free(client);
            close(fd);
            return;
        }
        if (room->count == room->capacity) {
            size_t capacity = room->capacity ? 2 * room->capacity : 16;
            struct client **grown = realloc(room->clients, capacity * sizeof *grown);
            if (grown == NULL) {
                perror("server: realloc");
                free(client);
                close(fd);
                return;
            }
            room->clients = grown;
            room->capacity = capacity;
        }
        client->fd = fd;
        line_buffer_init(&client->input);
        snprintf(client->name, sizeof client->name, "guest%lu", room->next_guest++);
        format_address(&peer, client->address, sizeof client->address);
        room->clients[room->count++] = client;

        printf("%s joined from %s\n", client->name, client->address);
        char line[NAME_SIZE + sizeof "* you are \n"];
        snprintf(line, sizeof line, "* you are %s\n", client->name);
        enqueue_text(client, line);
        snprintf(line, sizeof line, "* %s joined\n", client->name);
        broadcast_text(room, client, line);
    }
}

static void free_client(struct client *client)
{
    if (close(client->fd) < 0)
        perror("server: close");
    free(client->out);
    free(client);
}

/* Removes the clients marked gone, telling the others. Returns how many went. */
static size_t remove_gone(struct room *room)
{
    char line[NAME_SIZE + sizeof "*  dropped\n"];
    size_t kept = 0;

    /* First the news, while the array is whole: enqueue() skips the clients that are gone,
     * so it reaches only those who stay. */
    for (size_t i = 0; i < room->count; i++) {
        struct client *client = room->clients[i];
        if (!client->gone)
            continue;
        if (client->dropped) {
            printf("%s dropped: %s\n", client->name, client->reason);
            snprintf(line, sizeof line, "* %s dropped\n", client->name);
        } else {
            printf("%s left\n", client->name);
            snprintf(line, sizeof line, "* %s left\n", client->name);
        }
        broadcast_text(room, client, line);
    }
    /* Then out of the array, keeping the others in the order of joining. */
    for (size_t i = 0; i < room->count; i++) {
        if (room->clients[i]->gone)
            free_client(room->clients[i]);
        else
            room->clients[kept++] = room->clients[i];
    }
    size_t removed = room->count - kept;
    room->count = kept;
    if (removed > 0)
        room->accepting = true;  /* descriptors were freed: try accepting again */
    return removed;
}

/* After a round: send what can be sent, remove who has gone (which queues more lines for the
 * others), and again, until nobody more goes. */
static void settle(struct room *room)
{
    do {
        for (size_t i = 0; i < room->count; i++)
            flush(room->clients[i]);
    } while (remove_gone(room) > 0);
}

/* The poll() set: the signal pipe, the listener (while we can accept), and every client.
 * Everyone is watched for input; only those with bytes waiting for them, for output: asking
 * for POLLOUT on a socket that can always be written would make poll() return at once,
 * forever. Returns the number of entries, or 0 when memory ran out. */
static size_t build_poll_set(struct room *room)
{
    size_t needed = FIRST_CLIENT_SLOT + room->count;

    if (needed > room->fds_capacity) {
        struct pollfd *grown = realloc(room->fds, needed * sizeof *grown);
        if (grown == NULL) {
            perror("server: realloc");
            return 0;
        }
        room->fds = grown;
        room->fds_capacity = needed;
    }
    room->fds[0] = (struct pollfd){ .fd = signal_pipe[0], .events = POLLIN };
    /* A negative fd is skipped by poll(): the listener is left out while we cannot accept. */
    room->fds[1] = (struct pollfd){ .fd = room->accepting ? room->listener : -1,
                                    .events = POLLIN };
    for (size_t i = 0; i < room->count; i++) {
        struct client *client = room->clients[i];
        room->fds[FIRST_CLIENT_SLOT + i] = (struct pollfd){
            .fd = client->fd,
            .events = (short)(POLLIN | (queued(client) > 0 ? POLLOUT : 0)),
        };
    }
    return needed;
}

/* Serves the room until a signal arrives. Returns 0, or -1 if poll() itself failed. */
static int serve(struct room *room)
{
    for (;;) {
        size_t watched = build_poll_set(room);
        if (watched == 0)
            return -1;
        /* Wait as long as it takes, except while accepting is paused: then try again in a
         * while, in case nobody leaves to free a descriptor. */
        int ready = poll(room->fds, (nfds_t)watched, room->accepting ? -1 : ACCEPT_RETRY_MS);
        if (ready < 0) {
            if (errno == EINTR)
                continue;  /* a signal: its byte is in the pipe, poll() sees it next */
            perror("server: poll");
            return -1;
        }
        if (ready == 0) {
            room->accepting = true;
            continue;
        }
        if (room->fds[0].revents != 0)
            return 0;  /* SIGINT or SIGTERM: close the room */
        /* Clients first, then the listener: the clients polled are exactly those in
         * clients[0..watched - FIRST_CLIENT_SLOT), and accepting appends new ones. */
        for (size_t i = FIRST_CLIENT_SLOT; i < watched; i++) {
            struct client *client = room->clients[i - FIRST_CLIENT_SLOT];
            short events = room->fds[i].revents;
            /* POLLHUP and POLLERR come with nothing to read: recv() tells what happened. */
            if (events & (POLLIN | POLLHUP | POLLERR))
                receive(room, client);
            /* POLLOUT needs nothing here: settle() flushes every queue below. */
        }
        if (room->fds[1].revents != 0)
            accept_clients(room);
        settle(room);
    }
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    struct room room = { .listener = -1, .accepting = true, .next_guest = 1 };
    int status = EXIT_FAILURE;

    /* Tests read our output through a pipe, where stdout would otherwise be block-buffered
     * and our lines would appear only at exit. Line buffering flushes at every '\n'. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (catch_signals() < 0)
        goto cleanup;
    room.listener = open_listener(args.port);
    if (room.listener < 0)
        goto cleanup;
    printf("Chat room open on port %u.\n", (unsigned)args.port);

    if (serve(&room) == 0)
        status = EXIT_SUCCESS;

    /* The last lines queued (a few "* left") go out if they can, without waiting. */
    for (size_t i = 0; i < room.count; i++)
        flush(room.clients[i]);

cleanup:
    for (size_t i = 0; i < room.count; i++)
        free_client(room.clients[i]);   /* each client then sees the connection end */
    free(room.clients);
    free(room.fds);
    if (room.listener >= 0)
        close(room.listener);
    for (int i = 0; i < 2; i++)
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
    if (status == EXIT_SUCCESS)
        printf("Chat room closed.\n");
    return status;
}
