/*
 * linkpair.h — two link ends wired back to back in memory, for tests, fuzz
 * targets and the benchmark.  No sockets: "sending" moves one end's output
 * buffer into the other end's link_feed.
 */
#ifndef SKIFF_TEST_LINKPAIR_H
#define SKIFF_TEST_LINKPAIR_H

#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "link.h"

struct pair_end {
	struct link *l;
	struct link_buf out; /* what this end has to send */
	int established;     /* times on_established ran */
	size_t nrec;         /* records delivered */
	struct link_buf log; /* every record: type u8, len u32le, bytes */
	const char *reject;  /* non-NULL: close with this reason when established */
	int keep_log;        /* 0: count records only (benchmarks) */
};

void end_init(struct pair_end *e, enum link_role role, enum link_purpose purpose, uint32_t id,
              const char *name, uint64_t incarnation, const uint8_t key[LINK_KEY_BYTES], uint64_t now);
/* The same with a per-node credential (key may then be NULL); unix_now 0: the clock. */
void end_init_cred(struct pair_end *e, enum link_role role, enum link_purpose purpose, uint32_t id,
                   const char *name, uint64_t incarnation, const uint8_t *key,
                   const struct link_credential *cred, uint64_t unix_now, uint64_t now);
void end_free(struct pair_end *e);
/* Moves everything `from` has to send into `to` (in chunks of at most `chunk`
 * bytes, 0 = all at once).  Returns the bytes moved. */
size_t end_send(struct pair_end *from, struct pair_end *to, uint64_t now, size_t chunk);
/* Moves bytes both ways until neither end has anything to send. */
void pair_pump(struct pair_end *a, struct pair_end *b, uint64_t now, size_t chunk);
/* Starts both ends and runs the handshake; 0 when both are established. */
int pair_handshake(struct pair_end *a, struct pair_end *b, uint64_t now, size_t chunk);
/* Walks e->log: start with *cursor = 0; returns 0 and fills type/data/len for
 * the next record, -1 past the end. */
int end_next(const struct pair_end *e, size_t *cursor, unsigned *type, const uint8_t **data, size_t *len);
/* The n-th record (from 0) e received: its type, and its bytes in *data and
 * *len.  A test failure when there are not that many. */
unsigned end_nth(const struct pair_end *e, size_t n, const uint8_t **data, size_t *len);

#endif
