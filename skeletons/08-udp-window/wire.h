/*
 * wire.h — the datagrams of lab 08, as they travel (docs/contract.md, "08 udp-window"):
 * exactly lab 06's, so that a lab 06 client works with a lab 08 server and the other way round.
 *
 *   DATA | seq | 1..1024 bytes     block number seq of the file (blocks count from 0)
 *   ACK  | seq                     every block up to and including seq is written
 *   DONE | n                       sender: all n blocks are sent; receiver: all n are written
 *
 * A 4-byte tag, then an unsigned 32-bit number in network byte order (big-endian), so that a
 * client and a server written by different people, on different machines, agree.
 *
 * Given complete: you wrote the same in lab 06 (compare it with yours).
 */
#ifndef SOCKLAB_WIRE_H
#define SOCKLAB_WIRE_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BLOCK_MAX 1024                       /* the most file bytes one DATA carries */
#define TAG_LEN 4                            /* "DATA", "ACK ", "DONE" */
#define HEADER_LEN (TAG_LEN + 4)             /* the tag, then a uint32_t */
#define PACKET_MAX (HEADER_LEN + BLOCK_MAX)  /* the longest datagram of the protocol */
#define WINDOW_MAX 1024  /* the most blocks a sender may keep unacknowledged (the contract),
                            hence the most a receiver must be ready to hold ahead of a gap */

enum packet_kind { PACKET_INVALID, PACKET_DATA, PACKET_ACK, PACKET_DONE };

/* Tags are 4 bytes, not C strings: compared with memcmp, never strcmp. */
static const char TAG_DATA[TAG_LEN] = { 'D', 'A', 'T', 'A' };
static const char TAG_ACK[TAG_LEN] = { 'A', 'C', 'K', ' ' };
static const char TAG_DONE[TAG_LEN] = { 'D', 'O', 'N', 'E' };

/* Fills `packet` (at least HEADER_LEN + len bytes) and returns its length. `payload` is the
 * block for PACKET_DATA, and NULL with len 0 for the others. The number goes through memcpy:
 * a cast like *(uint32_t *)(packet + 4) would be a misaligned access. */
static inline size_t packet_encode(char *packet, enum packet_kind kind, uint32_t number,
                                   const void *payload, size_t len)
{
    const char *tag = kind == PACKET_DATA ? TAG_DATA : kind == PACKET_ACK ? TAG_ACK : TAG_DONE;
    uint32_t wire_number = htonl(number);

    memcpy(packet, tag, TAG_LEN);
    memcpy(packet + TAG_LEN, &wire_number, sizeof wire_number);
    if (len > 0)
        memcpy(packet + HEADER_LEN, payload, len);
    return HEADER_LEN + len;
}

/* Reads a received datagram of `len` bytes. Returns its kind and stores its number in
 * *number; a DATA block is the `len - HEADER_LEN` bytes at `packet + HEADER_LEN`. Anything
 * that is not exactly one of the three forms is PACKET_INVALID, to be ignored. */
static inline enum packet_kind packet_decode(const char *packet, size_t len, uint32_t *number)
{
    uint32_t wire_number;
    enum packet_kind kind;

    if (len < HEADER_LEN)
        return PACKET_INVALID;
    if (memcmp(packet, TAG_DATA, TAG_LEN) == 0)
        kind = PACKET_DATA;
    else if (memcmp(packet, TAG_ACK, TAG_LEN) == 0)
        kind = PACKET_ACK;
    else if (memcmp(packet, TAG_DONE, TAG_LEN) == 0)
        kind = PACKET_DONE;
    else
        return PACKET_INVALID;
    if (kind == PACKET_DATA ? len == HEADER_LEN || len > PACKET_MAX : len != HEADER_LEN)
        return PACKET_INVALID;
    memcpy(&wire_number, packet + TAG_LEN, sizeof wire_number);
    *number = ntohl(wire_number);
    return kind;
}

#endif /* SOCKLAB_WIRE_H */
