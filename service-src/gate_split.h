/*
 * gate_split.h — cuts one connection's byte stream into the C gate's packets.
 *
 * Stream grammar:  packet* ; packet = len:u16be|u32be byte[len]
 * (2- or 4-byte big-endian header, chosen per gate).  A length at or over
 * the splitter's limit is a protocol error: the gate closes the connection.
 * The gate's limit is GATE_SPLIT_MAX; tests use smaller ones to reach it
 * without megabytes of input.
 *
 * The splitter keeps only what a packet cut across reads needs (the header
 * bytes seen so far and the part of the packet that arrived), so the gate feeds each
 * socket read as it comes and pulls whole packets out one at a time:
 *
 *     while ((r = gate_split_next(s, &data, &sz, &pkt, &len)) == GATE_SPLIT_PACKET)
 *             deliver(pkt, len);      // pkt is malloc'd and now the caller's
 *
 * No dependency on the runtime: packets come from malloc, which is what
 * skynet_malloc is in Skiff, so the gate hands them on with PTYPE_TAG_DONTCOPY.
 */
#ifndef SKIFF_GATE_SPLIT_H
#define SKIFF_GATE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#define GATE_SPLIT_MAX 0x1000000 /* 16 MiB: larger lengths close the connection */

enum gate_split_result {
	GATE_SPLIT_NEED = 0,    /* the input is used up; no whole packet yet */
	GATE_SPLIT_PACKET = 1,  /* *packet / *len hold one whole packet */
	GATE_SPLIT_TOOBIG = -1, /* a header announced max_len bytes or more */
	GATE_SPLIT_NOMEM = -2,  /* the packet buffer could not be allocated */
};

struct gate_split; /* one connection's partial packet */

/* header_size is 2 or 4, max_len the first refused length (> 0); NULL for
 * other values or when out of memory. */
struct gate_split *gate_split_new(int header_size, size_t max_len);
/* Frees the partial packet too; accepts NULL. */
void gate_split_free(struct gate_split *s);

/* Bytes held for the packet being read (0 between packets): what the gate
 * counts against its buffer caps.  Accepts NULL. */
size_t gate_split_buffered(const struct gate_split *s);

/* Consumes bytes from *data / *sz (both advanced past what was used) until
 * a packet is whole or the input ends.  A packet is malloc'd with exactly
 * max(len, 1) bytes; the caller frees it.  After an error the splitter stays
 * failed (every later call returns the same error and consumes nothing). */
enum gate_split_result gate_split_next(struct gate_split *s, const uint8_t **data, size_t *sz,
                                       uint8_t **packet, size_t *len);

#endif
