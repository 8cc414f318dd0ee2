/*
 * fuzz_common.c — deterministic randomness and link helpers for fuzz targets.
 */
#include "fuzz_common.h"

#include "credential.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

const uint8_t fuzz_key[LINK_KEY_BYTES] = "skiff fuzz cluster key 32 bytes";

static uint32_t stream_id;
static uint64_t draw;

static const char *rng_name(void)
{
	return "skiff-fuzz-deterministic";
}

static void rng_buf(void *buf, size_t n)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };
	memcpy(seed, &stream_id, sizeof stream_id);
	memcpy(seed + 8, &draw, sizeof draw);
	draw++;
	randombytes_buf_deterministic(buf, n, seed);
}

static uint32_t rng_random(void)
{
	uint32_t v;
	rng_buf(&v, sizeof v);
	return v;
}

static struct randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

void fuzz_init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	if (randombytes_set_implementation(&rng) != 0 || sodium_init() < 0)
		abort();
}

void fuzz_rng_stream(uint32_t stream)
{
	stream_id = stream;
	draw = 0;
}

unsigned fuzz_mode(const uint8_t *data, size_t size)
{
	unsigned m = size ? data[0] & FUZZ_MODE_MASK : 0;
	return m & FUZZ_CRED ? m : 0;
}

/* Deterministic key pairs from fixed seeds, independent of the rng streams. */
static void seed_keypair(const char *label, uint32_t n, uint8_t pub[LINK_SIGN_PUBLIC],
                         uint8_t sec[LINK_SIGN_SECRET])
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	crypto_generichash(seed, sizeof seed, (const uint8_t *)label, strlen(label), (const uint8_t *)&n,
	                   sizeof n);
	crypto_sign_seed_keypair(pub, sec, seed);
}

void fuzz_credential(uint32_t id, int ca, int stolen, struct link_credential *out)
{
	uint8_t ca_pub[LINK_SIGN_PUBLIC], ca_sec[LINK_SIGN_SECRET], node_pub[LINK_SIGN_PUBLIC];
	uint8_t trust_sec[LINK_SIGN_SECRET];

	fuzz_init();
	seed_keypair("skiff fuzz cluster", (uint32_t)ca, ca_pub, ca_sec);
	seed_keypair("skiff fuzz cluster", 0, out->cluster_pub, trust_sec);
	seed_keypair("skiff fuzz node", id, node_pub, out->node_secret);
	out->cert_len = cred_cert_make(id, NULL, id == 9 ? FUZZ_UNIX_NOW : FUZZ_UNIX_NOW + 1000, node_pub,
	                               ca_sec, out->cert);
	if (out->cert_len == 0)
		abort();
	if (stolen)
		seed_keypair("skiff fuzz thief", id, node_pub, out->node_secret);
	sodium_memzero(ca_sec, sizeof ca_sec);
	sodium_memzero(trust_sec, sizeof trust_sec);
}

struct link *fuzz_link_cred(enum link_role role, unsigned mode, uint32_t claim_id,
                            const struct link_credential *cred, link_record_fn *on_record, void *ud)
{
	struct link_config cfg = {
		.role = role,
		.purpose = LINK_HARBOR_PEER,
		.self = { .node_id = claim_id, .incarnation = 7 },
		.cluster_key = (mode & FUZZ_CRED) && (mode & FUZZ_NOKEY) ? NULL : fuzz_key,
		.credential = (mode & FUZZ_CRED) ? cred : NULL,
		.unix_now = FUZZ_UNIX_NOW,
		.max_record = 1 << 20,
		.on_record = on_record,
		.ud = ud,
	};
	strcpy(cfg.self.name, role == LINK_INITIATOR ? "fuzz-i" : "fuzz-r");
	return link_new(&cfg, 0);
}

struct link *fuzz_link_mode(enum link_role role, unsigned mode, link_record_fn *on_record, void *ud)
{
	/* Made once: Ed25519 key generation would dominate a fuzz run. */
	static struct link_credential cred[2];
	static int made;
	if (!made) {
		fuzz_credential(1, 0, 0, &cred[0]);
		fuzz_credential(2, 0, 0, &cred[1]);
		made = 1;
	}
	uint32_t id = role == LINK_INITIATOR ? 1 : 2;
	return fuzz_link_cred(role, mode, id, &cred[id - 1], on_record, ud);
}

struct link *fuzz_link(enum link_role role, link_record_fn *on_record, void *ud)
{
	return fuzz_link_mode(role, 0, on_record, ud);
}

void fuzz_feed(struct link *l, const uint8_t *data, size_t size, struct link_buf *out)
{
	if (size == 0)
		return;
	size_t chunk = data[0] & 0x3f ? (size_t)(data[0] & 0x3f) : size;
	/* The link overwrites what it is fed: give it a copy, as a socket read would. */
	uint8_t *copy = malloc(size);
	if (copy == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	for (size_t off = 0; off < size - 1 && link_state(l) != LINK_CLOSED; off += chunk) {
		size_t n = size - 1 - off < chunk ? size - 1 - off : chunk;
		link_feed(l, copy + off, n, 1, out);
	}
	free(copy);
}
