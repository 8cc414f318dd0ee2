/*
 * fuzz_record.c — the post-handshake record decoder.  A deterministic link pair
 * is established for every input (so every run sees the same keys); the input
 * is then fed to the responder as if the initiator had sent it.  Seeds are
 * valid sealed streams from that initiator.
 */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	size_t count;
	size_t bytes;
};

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *p, size_t len)
{
	struct sink *s = ud;
	FUZZ_ASSERT(type == LINK_TYPE_HEARTBEAT || type >= LINK_TYPE_USER_MIN);
	FUZZ_ASSERT(len <= link_max_record(l));
	if (len > 0)   /* touch every byte: the record must be readable */
		s->bytes += p[0] + p[len - 1];
	s->count++;
}

static void pump(struct link *a, struct link_buf *aout, struct link *b, struct link_buf *bout)
{
	while (aout->len > 0 || bout->len > 0) {
		struct link_buf x = *aout;
		memset(aout, 0, sizeof *aout);
		link_feed(b, x.data, x.len, 0, bout);
		link_buf_free(&x);
		x = *bout;
		memset(bout, 0, sizeof *bout);
		link_feed(a, x.data, x.len, 0, aout);
		link_buf_free(&x);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_buf iout = {0}, rout = {0};
	struct sink si = {0}, sr = {0};

	fuzz_init();
	fuzz_rng_stream(1);
	struct link *i = fuzz_link(LINK_INITIATOR, on_record, &si);
	FUZZ_ASSERT(i != NULL && link_start(i, &iout) == LINK_OK);
	fuzz_rng_stream(0);
	struct link *r = fuzz_link(LINK_RESPONDER, on_record, &sr);
	FUZZ_ASSERT(r != NULL && link_start(r, &rout) == LINK_OK);
	pump(i, &iout, r, &rout);
	FUZZ_ASSERT(link_state(i) == LINK_ESTABLISHED && link_state(r) == LINK_ESTABLISHED);

	fuzz_feed(r, data, size, &rout);
	if (link_state(r) == LINK_CLOSED)
		FUZZ_ASSERT(link_reason(r)[0] != '\0');
	link_eof(r);
	FUZZ_ASSERT(link_state(r) == LINK_CLOSED);
	link_destroy(i);
	link_destroy(r);
	link_buf_free(&iout);
	link_buf_free(&rout);
	return 0;
}
