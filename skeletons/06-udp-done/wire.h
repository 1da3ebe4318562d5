/*
 * wire.h — the datagrams of lab 06, as they travel (docs/contract.md, "06 udp-done").
 * Yours to write.
 *
 *   DATA | seq | 1..1024 bytes     block number seq of the file (blocks count from 0)
 *   ACK  | seq                     every block up to and including seq is written
 *   DONE | n                       sender: all n blocks are sent; receiver: all n are written
 *
 * A 4-byte tag, then an unsigned 32-bit number in network byte order (big-endian), so that a
 * client and a server written by different people, on different machines, agree.
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

enum packet_kind { PACKET_INVALID, PACKET_DATA, PACKET_ACK, PACKET_DONE };

/* Tags are 4 bytes, not C strings: compared with memcmp, never strcmp. */
static const char TAG_DATA[TAG_LEN] = { 'D', 'A', 'T', 'A' };
static const char TAG_ACK[TAG_LEN] = { 'A', 'C', 'K', ' ' };
static const char TAG_DONE[TAG_LEN] = { 'D', 'O', 'N', 'E' };

/* Fills `packet` (at least HEADER_LEN + len bytes) and returns its length. `payload` is the
 * block for PACKET_DATA, and NULL with len 0 for the others. */
static inline size_t packet_encode(char *packet, enum packet_kind kind, uint32_t number,
                                   const void *payload, size_t len)
{
    /* TODO(step A): copy the 4-byte tag of `kind` (TAG_DATA, TAG_ACK or TAG_DONE), then
     * `number` converted with htonl(), then the `len` bytes of `payload`, one after the other,
     * with memcpy(). Never write *(uint32_t *)(packet + 4): that address is not aligned for a
     * uint32_t. Return HEADER_LEN + len. See htonl(3), memcpy(3). */
    (void)packet;
    (void)kind;
    (void)number;
    (void)payload;
    (void)len;
    return 0;
}

/* Reads a received datagram of `len` bytes. Returns its kind and stores its number in
 * *number; a DATA block is the `len - HEADER_LEN` bytes at `packet + HEADER_LEN`. Anything
 * that is not exactly one of the three forms is PACKET_INVALID, to be ignored. */
static inline enum packet_kind packet_decode(const char *packet, size_t len, uint32_t *number)
{
    /* TODO(step B): compare the first TAG_LEN bytes with each tag using memcmp() (tags are
     * not C strings). Check the length: DATA is HEADER_LEN + 1 .. PACKET_MAX bytes, ACK and
     * DONE exactly HEADER_LEN. Copy the number out with memcpy() and convert it with ntohl().
     * See ntohl(3), memcmp(3). */
    (void)packet;
    (void)len;
    (void)number;
    (void)TAG_DATA;
    (void)TAG_ACK;
    (void)TAG_DONE;
    return PACKET_INVALID;
}

#endif /* SOCKLAB_WIRE_H */
