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

#define FUZZ_ASSERT(c)                                                                                       \
	do {                                                                                                 \
		if (!(c))                                                                                    \
			__builtin_trap();                                                                    \
	} while (0)

extern const uint8_t fuzz_key[LINK_KEY_BYTES];

/* Modes of the handshake targets, from the top bits of an input's first byte
 * (fuzz_mode); the rest of that byte is the read size (fuzz_feed). */
#define FUZZ_CRED 0x80  /* per-node credentials (node 1 / node 2 certificates) */
#define FUZZ_NOKEY 0x40 /* with FUZZ_CRED: no shared key mixed in */
#define FUZZ_MODE_MASK 0xc0
#define FUZZ_UNIX_NOW 1800000000u /* the links' clock for certificate expiry */
unsigned fuzz_mode(const uint8_t *data, size_t size);

/* Installs the deterministic generator and initialises libsodium (once). */
void fuzz_init(void);
/* Restarts deterministic stream `stream`. */
void fuzz_rng_stream(uint32_t stream);
/* A link with the fixed test identity of `role` (initiator: node 1 "fuzz-i",
 * responder: node 2 "fuzz-r"), purpose HARBOR_PEER, the fixed key. */
struct link *fuzz_link(enum link_role role, link_record_fn *on_record, void *ud);
/* The same in a mode (FUZZ_CRED, FUZZ_NOKEY): each role presents its own
 * credential (initiator id 1, responder id 2) from the fixed test cluster. */
struct link *fuzz_link_mode(enum link_role role, unsigned mode, link_record_fn *on_record, void *ud);
/* Fixed credentials for the generator: node `id` of the fixed cluster (ca 0)
 * or of another one (ca 1); `stolen`: the certificate with a foreign secret.
 * Certificates expire at FUZZ_UNIX_NOW + 1000 (ids 1..3) or FUZZ_UNIX_NOW
 * (id 9: already expired). */
void fuzz_credential(uint32_t id, int ca, int stolen, struct link_credential *out);
/* A link like fuzz_link_mode(role, FUZZ_CRED...) but claiming `claim_id` with
 * the credential `cred` (the generator's hostile peers). */
struct link *fuzz_link_cred(enum link_role role, unsigned mode, uint32_t claim_id,
                            const struct link_credential *cred, link_record_fn *on_record, void *ud);
/* Feeds `data` to l: the first byte's low 6 bits pick the read size (0: all at
 * once, n: n bytes per read; the top 2 bits are the mode), the rest is the
 * byte stream. */
void fuzz_feed(struct link *l, const uint8_t *data, size_t size, struct link_buf *out);

#endif
