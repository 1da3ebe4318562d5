/*
 * args.h — command-line parsing shared by every socklab program.
 *
 * Given to students ready-made, so that the labs are about sockets. Every lab folder carries
 * an identical copy, because each folder must build on its own.
 *
 * The lab contract (docs/contract.md, "Arguments"):
 *   server [PORT [OUTPUT]]          client [HOST [PORT [INPUT]]]
 * PORT is a whole number in 1..65535, HOST a dotted IPv4 address. Anything else, or too many
 * arguments, prints one `usage:` line on stderr and exits with EXIT_USAGE, before any socket
 * is opened.
 * Lab 07's client takes HOST as a name or an address of either family
 * (parse_named_client_args): only getaddrinfo(3) can tell whether it is good, so the program
 * checks it, not this file.
 */
#ifndef SOCKLAB_ARGS_H
#define SOCKLAB_ARGS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 8080         /* the lesson's port */
#define DEFAULT_HOST "127.0.0.1"  /* the lesson's server address: this machine */
#define EXIT_USAGE 2              /* exit status for bad arguments, as in most Unix tools */
#define PORT_MAX 65535            /* ports are 16-bit; 0 means "any" and is not allowed */

/* What a program was asked to do. `path` is NULL for the labs that move no file. */
struct program_args {
    struct in_addr host;  /* client only: the server's address */
    const char *host_name; /* client only: HOST as typed (or DEFAULT_HOST), for messages and
                              for getaddrinfo(3) in lab 07 */
    uint16_t port;        /* host byte order; convert with htons() when filling a sockaddr */
    const char *path;     /* file labs: OUTPUT for the server, INPUT for the client */
};

/* Parses a decimal port. Only digits are accepted: strtol alone would also take " 80",
 * "+80" and "80abc", and atoi() would turn "abc" into 0 without a word. */
static inline int parse_port(const char *text, uint16_t *port)
{
    unsigned long value = 0;

    if (*text == '\0')
        return -1;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        value = value * 10 + (unsigned long)(*c - '0');
        if (value > PORT_MAX)
            return -1;
    }
    if (value == 0)
        return -1;
    *port = (uint16_t)value;
    return 0;
}

static inline void usage_exit(const char *program, const char *synopsis)
{
    fprintf(stderr, "usage: %s %s\n", program, synopsis);
    exit(EXIT_USAGE);
}

/*
 * server [PORT] or, when default_path is not NULL, server [PORT [OUTPUT]].
 * Exits with EXIT_USAGE on bad arguments.
 */
static inline struct program_args parse_server_args(int argc, char **argv,
                                                    const char *default_path)
{
    const char *synopsis = default_path ? "[PORT [OUTPUT]]" : "[PORT]";
    int max_args = default_path ? 2 : 1;
    struct program_args args = { .port = DEFAULT_PORT, .path = default_path };

    args.host.s_addr = htonl(INADDR_ANY);
    if (argc - 1 > max_args)
        usage_exit(argv[0], synopsis);
    if (argc > 1 && parse_port(argv[1], &args.port) != 0)
        usage_exit(argv[0], synopsis);
    if (argc > 2)
        args.path = argv[2];
    return args;
}

/*
 * client [HOST [PORT]] or, when default_path is not NULL, client [HOST [PORT [INPUT]]].
 * Exits with EXIT_USAGE on bad arguments.
 */
static inline struct program_args parse_client_args(int argc, char **argv,
                                                    const char *default_path)
{
    const char *synopsis = default_path ? "[HOST [PORT [INPUT]]]" : "[HOST [PORT]]";
    int max_args = default_path ? 3 : 2;
    const char *host = argc > 1 ? argv[1] : DEFAULT_HOST;
    struct program_args args = { .host_name = host, .port = DEFAULT_PORT,
                                 .path = default_path };

    if (argc - 1 > max_args)
        usage_exit(argv[0], synopsis);
    /* inet_pton() returns 1 on success, 0 for text that is not an address, -1 on error. */
    if (inet_pton(AF_INET, host, &args.host) != 1)
        usage_exit(argv[0], synopsis);
    if (argc > 2 && parse_port(argv[2], &args.port) != 0)
        usage_exit(argv[0], synopsis);
    if (argc > 3)
        args.path = argv[3];
    return args;
}

/*
 * client [HOST [PORT]], where HOST is a host name or a numeric IPv4 or IPv6 address (lab 07):
 * it is kept as text in args.host_name, to be resolved with getaddrinfo(3), and args.host is
 * left empty. Only a bad PORT or too many arguments exit with EXIT_USAGE.
 */
static inline struct program_args parse_named_client_args(int argc, char **argv)
{
    const char *synopsis = "[HOST [PORT]]";
    struct program_args args = { .host_name = argc > 1 ? argv[1] : DEFAULT_HOST,
                                 .port = DEFAULT_PORT };

    if (argc - 1 > 2)
        usage_exit(argv[0], synopsis);
    if (argc > 2 && parse_port(argv[2], &args.port) != 0)
        usage_exit(argv[0], synopsis);
    return args;
}

#endif /* SOCKLAB_ARGS_H */
