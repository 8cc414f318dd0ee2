/*
 * fuzz_handshake_initiator.c — an initiator that sent its HELLO, fed arbitrary
 * bytes as the responder's answer.  Seeds hold a valid responder flight for the
 * deterministic initiator, followed by sealed records.  The first byte's top
 * bits pick the mode (fuzz_common.h); in every mode an established peer is
 * node 2, and with credentials that is proven, not just claimed.
 */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *p, size_t len)
{
	size_t *count = ud;
	FUZZ_ASSERT(link_state(l) == LINK_ESTABLISHED && link_peer(l) != NULL);
	FUZZ_ASSERT(type == LINK_TYPE_HEARTBEAT || type >= LINK_TYPE_USER_MIN);
	(void)p;
	(void)len;
	(*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_buf out = { 0 };
	size_t count = 0;

	fuzz_init();
	fuzz_rng_stream(0);
	unsigned mode = fuzz_mode(data, size);
	struct link *l = fuzz_link_mode(LINK_INITIATOR, mode, on_record, &count);
	FUZZ_ASSERT(l != NULL);
	FUZZ_ASSERT(link_start(l, &out) == LINK_OK && out.len > 0);
	fuzz_feed(l, data, size, &out);
	if (count > 0)
		FUZZ_ASSERT(link_peer(l) != NULL && link_peer(l)->node_id == 2);
	if (mode && link_peer(l) != NULL)
		FUZZ_ASSERT(link_peer(l)->node_id == 2);
	link_tick(l, 1 + LINK_DEFAULT_HANDSHAKE_MS);
	FUZZ_ASSERT(link_eof(l) == LINK_CLOSED);
	link_free(l);
	link_buf_free(&out);
	return 0;
}
