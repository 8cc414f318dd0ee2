/*
 * fuzz_handshake_responder.c — a responder fed arbitrary bytes as the
 * initiator's side of the conversation.  Seeds hold a valid initiator flight
 * for the deterministic responder, so mutations also reach the established
 * state, sealed records and CLOSE handling.  The first byte's top bits pick
 * the mode (fuzz_common.h): shared key, or per-node credentials with or
 * without it; with credentials, no input may establish a link whose peer is
 * anything but node 1, the only id the fuzzed initiator can prove.
 */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *p, size_t len)
{
	struct link_buf *out = ud;
	/* Only authenticated records get here, and only once established. */
	FUZZ_ASSERT(link_state(l) == LINK_ESTABLISHED && link_peer(l) != NULL);
	FUZZ_ASSERT(type == LINK_TYPE_HEARTBEAT || type >= LINK_TYPE_USER_MIN);
	/* Answer, as a user would: exercises sealing after the handshake. */
	FUZZ_ASSERT(link_seal(l, out, LINK_TYPE_USER_MIN, p, len < 64 ? len : 64) == LINK_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_buf out = { 0 };

	fuzz_init();
	fuzz_rng_stream(0);
	unsigned mode = fuzz_mode(data, size);
	struct link *l = fuzz_link_mode(LINK_RESPONDER, mode, on_record, &out);
	FUZZ_ASSERT(l != NULL);
	FUZZ_ASSERT(link_start(l, &out) == LINK_OK && out.len == 0);
	fuzz_feed(l, data, size, &out);
	if (mode && link_peer(l) != NULL)
		FUZZ_ASSERT(link_peer(l)->node_id == 1);
	/* Whatever came in, the pre-authentication output is one HELLO and one AUTH. */
	if (link_state(l) != LINK_ESTABLISHED && link_peer(l) == NULL)
		FUZZ_ASSERT(out.len < 512);
	link_tick(l, 1 + LINK_DEFAULT_HANDSHAKE_MS);
	FUZZ_ASSERT(link_eof(l) == LINK_CLOSED && link_reason(l)[0] != '\0');
	link_free(l);
	link_buf_free(&out);
	return 0;
}
