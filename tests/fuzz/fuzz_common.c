/*
 * fuzz_common.c — deterministic randomness and link helpers for fuzz targets.
 */
#include "fuzz_common.h"

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
	uint8_t seed[randombytes_SEEDBYTES] = {0};
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

struct link *fuzz_link(enum link_role role, link_record_fn *on_record, void *ud)
{
	struct link_config cfg = {
		.role = role,
		.purpose = LINK_HARBOR_PEER,
		.self = {.node_id = role == LINK_INITIATOR ? 1 : 2, .incarnation = 7},
		.cluster_key = fuzz_key,
		.max_record = 1 << 20,
		.on_record = on_record,
		.ud = ud,
	};
	strcpy(cfg.self.name, role == LINK_INITIATOR ? "fuzz-i" : "fuzz-r");
	return link_create(&cfg, 0);
}

void fuzz_feed(struct link *l, const uint8_t *data, size_t size, struct link_buf *out)
{
	if (size == 0)
		return;
	size_t chunk = data[0] ? data[0] : size;
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
