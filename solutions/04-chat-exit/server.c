/*
 * Lab 04 — chat with exit, the server (reference solution).
 *
 *   server [PORT]
 *
 * Accepts one client, then chats with it line by line, the client first: prints each of the
 * client's lines as "Client: <line>", then reads an answer from stdin and sends it.
 * The chat ends when either side types a line that is exactly "exit", or when either side's
 * input ends. The side that ends it closes the connection; the other prints "Connection
 * closed by client." (or by server). Both end in exit 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "lines.h"
#include "stream.h"

#define BACKLOG 1            /* this server chats with exactly one client */

/* The line that ends the chat. Only this exact line: "exited" or " exit" are messages. */
static const char EXIT_LINE[] = "exit";

/* Whether the user's line (`length` bytes, with its '\n') is exactly EXIT_LINE. */
static bool is_exit(const char *line, size_t length)
{
    return length == strlen(EXIT_LINE) + 1 && strncmp(line, EXIT_LINE, strlen(EXIT_LINE)) == 0;
}

/* How a turn ended. */
enum turn { TURN_DONE, TURN_END, TURN_FAILED };

/*
 * Reads the next line the user types, with its '\n' (getline(3) grows *line as needed).
 * TURN_END at the end of input: that is how the user leaves the chat, not an error.
 */
static enum turn read_user_line(char **line, size_t *capacity, size_t *length)
{
    /* A prompt helps a person at a terminal; in a pipe it would only clutter the output. */
    if (isatty(STDIN_FILENO)) {
        printf("Server: ");
        fflush(stdout);  /* the prompt has no '\n', so line buffering would hold it back */
    }
    ssize_t got = getline(line, capacity, stdin);
    if (got < 0) {
        if (ferror(stdin)) {
            perror("server: read stdin");
            return TURN_FAILED;
        }
        return TURN_END;
    }
    *length = (size_t)got;
    if ((*line)[*length - 1] != '\n')  /* the last line of a file may lack its '\n' */
        (*line)[(*length)++] = '\n';    /* room: getline() left a '\0' there */
    if (*length - 1 > LINE_MAX_BYTES) {
        fprintf(stderr, "server: a line may have at most %d bytes; this one has %zu\n",
                LINE_MAX_BYTES, *length - 1);
        return TURN_FAILED;
    }
    return TURN_DONE;
}

/* Waits for the client's next line and prints it. TURN_END when the client has ended the
 * chat, by closing the connection or by sending "exit". */
static enum turn receive_line(struct line_reader *reader)
{
    char *line;
    size_t length;

    switch (line_read(reader, &line, &length)) {
    case LINE_OK:
        if (strcmp(line, EXIT_LINE) == 0)
            break;  /* the client ended the chat: as if it had closed the connection */
        printf("Client: %s\n", line);
        return TURN_DONE;
    case LINE_EOF:
        break;
    case LINE_PARTIAL:
        fprintf(stderr, "server: the client closed the connection in the middle of a line\n");
        return TURN_FAILED;
    case LINE_TOO_LONG:
        fprintf(stderr, "server: the client sent a line longer than %d bytes\n",
                LINE_MAX_BYTES);
        return TURN_FAILED;
    case LINE_ERROR:
        perror("server: recv");
        return TURN_FAILED;
    }
    printf("Connection closed by client.\n");
    return TURN_END;
}

int main(int argc, char **argv)
{
    struct program_args args = parse_server_args(argc, argv, NULL);
    struct sockaddr_in address = { 0 };
    struct line_reader reader;
    char *line = NULL;      /* the user's line, grown by getline() */
    size_t capacity = 0;
    size_t length;
    int listener = -1;
    int client = -1;
    int reuse = 1;
    int status = EXIT_FAILURE;
    enum turn turn = TURN_FAILED;

    /* Tests read our output through a pipe, where stdout would otherwise be block-buffered
     * and our lines would appear only at exit. Line buffering flushes at every '\n'. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* socket() returns -1 on error; 0 is a valid descriptor (the lesson tests "== 0"). */
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) {
        perror("server: socket");
        goto cleanup;
    }
    /* Without SO_REUSEADDR, a restart soon after a chat fails with "Address already in
     * use": the previous connection still sits in TIME_WAIT on this port. */
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) < 0) {
        perror("server: setsockopt SO_REUSEADDR");
        goto cleanup;
    }
    address.sin_family = AF_INET;
    address.sin_addr = args.host;          /* INADDR_ANY: every interface of this machine */
    address.sin_port = htons(args.port);   /* ports travel in network byte order */
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) {
        perror("server: bind");
        goto cleanup;
    }
    if (listen(listener, BACKLOG) < 0) {
        perror("server: listen");
        goto cleanup;
    }
    printf("Waiting for a connection...\n");

    do {
        client = accept(listener, NULL, NULL);
    } while (client < 0 && errno == EINTR);
    if (client < 0) {
        perror("server: accept");
        goto cleanup;
    }
    /* We chat with this one client only: a second one is refused at once rather than left
     * waiting in the backlog for an accept() that never comes. */
    close(listener);
    listener = -1;
    printf("Connection established with client.\n");

    line_reader_init(&reader, client);
    for (;;) {
        turn = receive_line(&reader);
        if (turn != TURN_DONE)
            break;
        turn = read_user_line(&line, &capacity, &length);
        if (turn != TURN_DONE)
            break;
        if (send_all(client, line, length) < 0) {
            perror("server: send");
            turn = TURN_FAILED;
            break;
        }
        /* Our user typed exit: it has been sent, so that the client knows; we are done. */
        if (is_exit(line, length)) {
            turn = TURN_END;
            break;
        }
    }
    if (turn == TURN_END)
        status = EXIT_SUCCESS;

cleanup:
    /* Closing is also how the client learns that the chat is over (its recv() returns 0). */
    if (client >= 0 && close(client) < 0) {
        perror("server: close");
        status = EXIT_FAILURE;
    }
    if (listener >= 0)
        close(listener);
    free(line);
    return status;
}
