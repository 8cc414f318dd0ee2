/*
 * fuzz_common.h — what the fuzz targets share.
 *
 * Randomness is made deterministic (libsodium's randombytes implementation is
 * swapped before sodium_init), so a link's ephemeral keys are the same in every
 * run.  That is what lets a committed corpus hold a *valid* handshake and valid
 * sealed records for these exact links: mutations of them reach the code behind
 * the MAC checks instead of stopping at the first one.  Never do this outside
 * a fuzz or test binary.
 *
 * Streams: a link draws its randomness from the stream selected last.  Targets
 * put the link under test on stream 0; the generator (gen_corpus.c) puts the
 * peer it plays on stream 1.
 */
#ifndef SKIFF_FUZZ_COMMON_H
#define SKIFF_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

extern const uint8_t fuzz_key[LINK_KEY_BYTES];

/* Installs the deterministic generator and initialises libsodium (once). */
void fuzz_init(void);
/* Restarts deterministic stream `stream`. */
void fuzz_rng_stream(uint32_t stream);
/* A link with the fixed test identity of `role` (initiator: node 1 "fuzz-i",
 * responder: node 2 "fuzz-r"), purpose HARBOR_PEER, the fixed key. */
struct link *fuzz_link(enum link_role role, link_record_fn *on_record, void *ud);
/* Feeds `data` to l: the first byte picks the read size (0: all at once,
 * n: n bytes per read), the rest is the byte stream. */
void fuzz_feed(struct link *l, const uint8_t *data, size_t size, struct link_buf *out);

#endif
