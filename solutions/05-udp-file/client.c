/*
 * Lab 05 — UDP file transfer, the client (reference solution).
 *
 *   client [HOST [PORT [INPUT]]]
 *
 * Sends INPUT to the server in datagrams of at most 1024 bytes, then one empty datagram that
 * marks the end of the file, and prints "File sent successfully.". Nothing tells us that the
 * server received anything: UDP has no acknowledgements (lab 06 adds them).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"

#define DEFAULT_INPUT "send_file.txt"  /* the lesson's file name */
#define DATAGRAM_MAX 1024     /* the longest datagram we send, in bytes */

/* One sendto() sends one whole datagram or fails: UDP never sends part of one. */
static int send_datagram(int sock, const struct sockaddr_in *to, const void *data, size_t len)
{
    ssize_t sent;

    do {
        sent = sendto(sock, data, len, 0, (const struct sockaddr *)to, sizeof *to);
    } while (sent < 0 && errno == EINTR);
    return sent == (ssize_t)len ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct program_args args = parse_client_args(argc, argv, DEFAULT_INPUT);
    struct sockaddr_in server = { 0 };
    char block[DATAGRAM_MAX];
    FILE *input = NULL;
    int sock = -1;
    int status = EXIT_FAILURE;

    setvbuf(stdout, NULL, _IOLBF, 0);  /* flush each line at once, even into a pipe */

    /* Open the file before the socket: a missing file must not send the server anything,
     * not even the end mark, which would leave it with an empty file it thinks is whole. */
    input = fopen(args.path, "rb");
    if (input == NULL) {
        fprintf(stderr, "client: cannot open %s: %s\n", args.path, strerror(errno));
        goto cleanup;
    }

    sock = socket(AF_INET, SOCK_DGRAM, 0);
    if (sock < 0) {
        perror("client: socket");
        goto cleanup;
    }
    /* The address we were given: the lesson's INADDR_ANY (0.0.0.0) is not a destination.
     * Linux happens to deliver it to this machine, which hides the bug until the server
     * runs elsewhere. */
    server.sin_family = AF_INET;
    server.sin_addr = args.host;
    server.sin_port = htons(args.port);

    for (;;) {
        /* fread() fills the block unless the file ends (or fails) first. */
        size_t length = fread(block, 1, sizeof block, input);

        if (length > 0 && send_datagram(sock, &server, block, length) < 0) {
            perror("client: sendto");
            goto cleanup;
        }
        if (length < sizeof block) {
            if (ferror(input)) {
                fprintf(stderr, "client: cannot read %s: %s\n", args.path, strerror(errno));
                goto cleanup;
            }
            break;  /* end of file */
        }
    }

    /* The end-of-file mark. A datagram carries its own length, so an empty one is a message
     * of its own that no block of the file can be mistaken for (a "DONE" could be data). */
    if (send_datagram(sock, &server, block, 0) < 0) {
        perror("client: sendto");
        goto cleanup;
    }
    printf("File sent successfully.\n");
    status = EXIT_SUCCESS;

cleanup:
    if (input != NULL)
        fclose(input);
    if (sock >= 0)
        close(sock);
    return status;
}
