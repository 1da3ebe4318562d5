/*
 * Lab 03 — TCP chat, the client (reference solution).
 *
 *   client [HOST [PORT]]
 *
 * Connects to the server, then chats with it line by line, we first: reads a line from
 * stdin and sends it, then prints the server's answer as "Server: <line>".
 * The chat ends when either side's input ends: ours (we close the connection) or the
 * server's (it closes, and we print "Connection closed by server."). Both end in exit 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "lines.h"
#include "stream.h"

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
        printf("Client: ");
        fflush(stdout);  /* the prompt has no '\n', so line buffering would hold it back */
    }
    ssize_t got = getline(line, capacity, stdin);
    if (got < 0) {
        if (ferror(stdin)) {
            perror("client: read stdin");
            return TURN_FAILED;
        }
        return TURN_END;
    }
    *length = (size_t)got;
    if ((*line)[*length - 1] != '\n')  /* the last line of a file may lack its '\n' */
        (*line)[(*length)++] = '\n';    /* room: getline() left a '\0' there */
    if (*length - 1 > LINE_MAX_BYTES) {
        fprintf(stderr, "client: a line may have at most %d bytes; this one has %zu\n",
                LINE_MAX_BYTES, *length - 1);
        return TURN_FAILED;
    }
    return TURN_DONE;
}

/* Waits for the server's next line and prints it. */
static enum turn receive_line(struct line_reader *reader)
{
    char *line;
    size_t length;

    switch (line_read(reader, &line, &length)) {
    case LINE_OK:
        printf("Server: %s\n", line);
        return TURN_DONE;
    case LINE_EOF:
        printf("Connection closed by server.\n");
        return TURN_END;
    case LINE_PARTIAL:
        fprintf(stderr, "client: the server closed the connection in the middle of a line\n");
        return TURN_FAILED;
    case LINE_TOO_LONG:
        fprintf(stderr, "client: the server sent a line longer than %d bytes\n",
                LINE_MAX_BYTES);
        return TURN_FAILED;
    case LINE_ERROR:
        break;
    }
    perror("client: recv");
    return TURN_FAILED;
}

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, NULL);
    struct sockaddr_in server = { 0 };
    struct line_reader reader;
    char *line = NULL;      /* the user's line, grown by getline() */
    size_t capacity = 0;
    size_t length;
    int sock = -1;
    int status = EXIT_FAILURE;
    enum turn turn = TURN_FAILED;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0) {
        perror("client: socket");
        goto cleanup;
    }
    server.sin_family = AF_INET;
    server.sin_addr = args.host;
    server.sin_port = htons(args.port);
    /* With no server on that port, connect() fails at once with ECONNREFUSED. */
    if (connect(sock, (struct sockaddr *)&server, sizeof server) < 0) {
        perror("client: connect");
        goto cleanup;
    }
    printf("Connected to server.\n");

    line_reader_init(&reader, sock);
    for (;;) {
        turn = read_user_line(&line, &capacity, &length);
        if (turn != TURN_DONE)
            break;
        if (send_all(sock, line, length) < 0) {
            perror("client: send");
            turn = TURN_FAILED;
            break;
        }
        turn = receive_line(&reader);
        if (turn != TURN_DONE)
            break;
    }
    if (turn == TURN_END)
        status = EXIT_SUCCESS;

cleanup:
    /* Closing is also how the server learns that the chat is over (its recv() returns 0). */
    if (sock >= 0 && close(sock) < 0) {
        perror("client: close");
        status = EXIT_FAILURE;
    }
    free(line);
    return status;
}
