/*
 * Lab 07 — chat room, the client (reference solution).
 *
 *   client [HOST [PORT]]
 *
 * Connects to the chat room at HOST (a name, or a numeric IPv4 or IPv6 address: 127.0.0.1,
 * ::1 and localhost all work), then does two things at once: every line typed on stdin goes
 * to the room, and every line from the room is printed as it arrives — even while the user is
 * in the middle of typing. The lesson's chat took turns (read stdin, then the socket, then
 * stdin...): here nobody knows who speaks next, so the client waits for both with poll(2).
 *
 * End of stdin: close the connection, exit 0. The server closes the connection: print
 * "Connection closed by server.", exit 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "stream.h"

#define CHUNK_SIZE 4096   /* bytes moved per read: any size works, lines are not cut here */
#define PORT_TEXT_SIZE sizeof "65535"
#define WATCHED 2         /* stdin and the socket */

/*
 * Connects to HOST:PORT. getaddrinfo(3) turns the name into a list of addresses, IPv6 and
 * IPv4 alike ("localhost" may give ::1 and 127.0.0.1); we try each in turn until one
 * answers, so the same code works whatever the family. Returns the socket, or -1 after saying
 * why on stderr.
 */
static int connect_to(const char *host, uint16_t port)
{
    struct addrinfo hints = { 0 };
    struct addrinfo *found = NULL;
    char service[PORT_TEXT_SIZE];
    int last_error = 0;
    int sock = -1;

    hints.ai_family = AF_UNSPEC;      /* IPv4 or IPv6: whatever HOST is */
    hints.ai_socktype = SOCK_STREAM;  /* TCP (else each address comes back three times) */
    /* No AI_ADDRCONFIG: it drops IPv6 answers on a machine whose only IPv6 address is ::1,
     * and "::1" itself would then not resolve. */
    snprintf(service, sizeof service, "%u", (unsigned)port);
    int problem = getaddrinfo(host, service, &hints, &found);
    if (problem != 0) {
        /* getaddrinfo() does not set errno: its own codes are explained by gai_strerror() */
        fprintf(stderr, "client: cannot resolve %s: %s\n", host,
                problem == EAI_SYSTEM ? strerror(errno) : gai_strerror(problem));
        return -1;
    }
    for (struct addrinfo *candidate = found; candidate != NULL; candidate = candidate->ai_next) {
        sock = socket(candidate->ai_family, candidate->ai_socktype, candidate->ai_protocol);
        if (sock < 0) {
            last_error = errno;   /* e.g. EAFNOSUPPORT: no IPv6 here; try the next one */
            continue;
        }
        if (connect(sock, candidate->ai_addr, candidate->ai_addrlen) == 0)
            break;
        last_error = errno;
        close(sock);
        sock = -1;
    }
    freeaddrinfo(found);   /* at once: the list is not needed once connected */
    if (sock < 0)
        fprintf(stderr, "client: connect to %s port %u: %s\n", host, (unsigned)port,
                strerror(last_error));
    return sock;
}

/* Writes all `length` bytes to stdout (a pipe may take fewer bytes than asked at once). */
static int write_all(const char *bytes, size_t length)
{
    while (length > 0) {
        ssize_t written = write(STDOUT_FILENO, bytes, length);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        bytes += written;
        length -= (size_t)written;
    }
    return 0;
}

/* How one step of the conversation went. */
enum step { STEP_GO_ON, STEP_END, STEP_FAILED };

/*
 * stdin is readable: send what the user typed. read(2), not fgets(3): stdio would read ahead
 * into its own buffer, and lines waiting there are invisible to poll(), which looks only at
 * the descriptor. The bytes go out as they are; the server cuts them into lines.
 */
static enum step from_user(int sock, bool *line_open)
{
    char chunk[CHUNK_SIZE];
    ssize_t got = read(STDIN_FILENO, chunk, sizeof chunk);

    if (got < 0) {
        if (errno == EINTR)
            return STEP_GO_ON;
        perror("client: read stdin");
        return STEP_FAILED;
    }
    if (got == 0) {
        /* The end of input. A last line typed without '\n' is still a line: finish it, or
         * the server would take it for a line cut off and drop it. */
        if (*line_open && send_all(sock, "\n", 1) < 0) {
            perror("client: send");
            return STEP_FAILED;
        }
        return STEP_END;
    }
    /* A blocking send: the server reads every client without waiting, so it is brief. */
    if (send_all(sock, chunk, (size_t)got) < 0) {
        perror("client: send");
        return STEP_FAILED;
    }
    *line_open = chunk[got - 1] != '\n';
    return STEP_GO_ON;
}

/* The socket is readable: print what the room sent, as it is. */
static enum step from_room(int sock, bool *line_open)
{
    char chunk[CHUNK_SIZE];
    ssize_t got = recv(sock, chunk, sizeof chunk, 0);

    if (got < 0) {
        if (errno == EINTR)
            return STEP_GO_ON;
        perror("client: recv");
        return STEP_FAILED;
    }
    if (got == 0) {
        /* Our own line goes on its own line, even if the last one came without '\n'. */
        printf("%sConnection closed by server.\n", *line_open ? "\n" : "");
        return STEP_END;
    }
    if (write_all(chunk, (size_t)got) < 0) {
        perror("client: write stdout");
        return STEP_FAILED;
    }
    *line_open = chunk[got - 1] != '\n';
    return STEP_GO_ON;
}

int main(int argc, char **argv)
{
    struct program_args args = parse_named_client_args(argc, argv);
    bool typing = false;      /* the user's last line sent has no '\n' yet */
    bool printing = false;    /* the room's last line printed has no '\n' yet */
    enum step step = STEP_GO_ON;
    int status = EXIT_FAILURE;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    int sock = connect_to(args.host_name, args.port);
    if (sock < 0)
        return EXIT_FAILURE;
    printf("Connected to the chat room.\n");

    while (step == STEP_GO_ON) {
        struct pollfd watched[WATCHED] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = sock, .events = POLLIN },
        };
        if (poll(watched, WATCHED, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("client: poll");
            step = STEP_FAILED;
            break;
        }
        /* The room first: what it has said is printed before we leave at the end of input.
         * POLLHUP and POLLERR come with nothing to read: read() and recv() tell what. */
        if (watched[1].revents != 0)
            step = from_room(sock, &printing);
        if (step == STEP_GO_ON && watched[0].revents != 0)
            step = from_user(sock, &typing);
    }
    if (step == STEP_END)
        status = EXIT_SUCCESS;

    /* Closing is how the server learns that we have left. */
    if (close(sock) < 0) {
        perror("client: close");
        status = EXIT_FAILURE;
    }
    return status;
}
