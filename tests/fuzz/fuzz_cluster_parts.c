/*
 * fuzz_cluster_parts.c — a cluster link's multi-part reassembly
 * (cluster/assembly.c) on frames from a peer, as cluster/inbound.c drives it:
 * first frames (begin) and Part frames of interleaved messages.
 *
 * Input: two bytes of limits, then a script of events.
 *   max_message = 2 * in[0], max_pending = 4 * in[1]  (small, so that both
 *   limits are hit, and so are messages over max_message: discarded)
 * Each event starts with one byte b; id = (b >> 1) & 7 (0 is invalid):
 *   b & 1 == 0  BEGIN: headroom = (b >> 4) & 1; t = next byte;
 *               total = t, or max_message + t when b & 0x20, or
 *               UINT64_MAX - t when b & 0x60 == 0x60;
 *               then n = next byte and n bytes of first chunk
 *   b & 1 == 1  PART:  last = (b >> 4) & 1; n = next byte, n bytes of data
 * A model of the protocol predicts every answer: accepted, whole (with
 * exactly the declared size and the bytes sent, in order, after `headroom`
 * spare bytes; or no buffer for a discarded message), or an error.  After
 * an error (a non-empty reason) the link would close: the assembly is freed
 * with what it holds and a fresh one goes on with the rest of the script.
 * After every event: the bytes reserved match the model and stay within
 * max_pending, the unfinished count matches.  Every meta given to the
 * assembly comes back exactly once (whole message or meta_free).
 */
#include <stdlib.h>
#include <string.h>

#include "assembly.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NID 8

struct meta {
	uint32_t id;
	unsigned serial; /* which BEGIN made it */
};

/* What the model expects of message `id`. */
struct expect {
	bool active;
	bool stored; /* total <= max_message: kept and handed back */
	uint64_t total, got;
	size_t headroom;
	struct meta *meta;
	uint8_t *bytes; /* the payload so far, when stored */
};

struct state {
	struct assembly *a;
	size_t max_message, max_pending, pending;
	struct expect ex[NID];
	size_t live_metas; /* metas not yet back from the assembly */
};

static struct state st;

static void meta_free(void *p)
{
	FUZZ_ASSERT(p != NULL && st.live_metas > 0);
	st.live_metas--;
	free(p);
}

/* The link closes: everything unfinished goes, metas through meta_free. */
static void close_link(void)
{
	assembly_free(st.a);
	st.a = NULL;
	FUZZ_ASSERT(st.live_metas == 0);
	for (int k = 0; k < NID; k++) {
		free(st.ex[k].bytes);
		memset(&st.ex[k], 0, sizeof st.ex[k]);
	}
	st.pending = 0;
}

static void open_link(void)
{
	st.a = assembly_new(st.max_message, st.max_pending, meta_free);
	FUZZ_ASSERT(st.a != NULL);
}

static void check_error(int r, const char *why)
{
	FUZZ_ASSERT(r == -1);
	FUZZ_ASSERT(why != NULL && why[0] != '\0');
	close_link();
	open_link();
}

static void on_begin(uint32_t id, uint64_t total, size_t headroom, const uint8_t *p, size_t n,
                     unsigned serial)
{
	struct expect *e = &st.ex[id];
	bool bad = id == 0 || total == 0 || n > total || e->active;
	bool stored = total <= st.max_message;
	if (!bad && stored && total > st.max_pending - st.pending)
		bad = true; /* over max_pending */

	struct meta *m = malloc(sizeof *m);
	FUZZ_ASSERT(m != NULL);
	*m = (struct meta){ id, serial };
	/* a copy, exact size: ASan sees the assembly read past the chunk */
	uint8_t *chunk = n ? malloc(n) : NULL;
	if (n)
		memcpy(chunk, p, n);
	const char *why = NULL;
	int r = assembly_begin(st.a, id, total, headroom, m, chunk, n, &why);
	free(chunk);
	if (bad) {
		free(m); /* refused: still ours */
		check_error(r, why);
		return;
	}
	FUZZ_ASSERT(r == 0);
	st.live_metas++;
	*e = (struct expect){ true, stored, total, n, headroom, m, NULL };
	if (stored) {
		st.pending += (size_t)total;
		e->bytes = malloc((size_t)total);
		FUZZ_ASSERT(e->bytes != NULL);
		if (n)
			memcpy(e->bytes, p, n);
	}
}

static void on_part(uint32_t id, bool last, const uint8_t *p, size_t n)
{
	struct expect *e = &st.ex[id];
	bool bad = !e->active || n > e->total - e->got || last != (e->got + n == e->total);

	uint8_t *chunk = n ? malloc(n) : NULL;
	if (n)
		memcpy(chunk, p, n);
	struct assembly_msg out = { NULL, NULL, 0 };
	const char *why = NULL;
	int r = assembly_part(st.a, id, last, chunk, n, &out, &why);
	free(chunk);
	if (bad) {
		check_error(r, why);
		return;
	}
	if (e->stored && n)
		memcpy(e->bytes + e->got, p, n);
	e->got += n;
	if (!last) {
		FUZZ_ASSERT(r == 0);
		return;
	}
	FUZZ_ASSERT(r == 1);
	FUZZ_ASSERT(out.meta == e->meta && out.total == e->total);
	if (e->stored) {
		FUZZ_ASSERT(out.buf != NULL);
		/* the headroom is there to write in: touch it */
		memset(out.buf, 0xA5, e->headroom);
		FUZZ_ASSERT(memcmp(out.buf + e->headroom, e->bytes, (size_t)e->total) == 0);
		st.pending -= (size_t)e->total;
	} else {
		FUZZ_ASSERT(out.buf == NULL);
	}
	free(out.buf);
	free(out.meta);
	st.live_metas--;
	free(e->bytes);
	memset(e, 0, sizeof *e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	st.max_message = (size_t)data[0] * 2;
	st.max_pending = (size_t)data[1] * 4;
	open_link();
	size_t i = 2;
	unsigned serial = 0;
	while (i < size) {
		uint8_t b = data[i++];
		uint32_t id = (b >> 1) & (NID - 1);
		if ((b & 1) == 0) {
			size_t headroom = (b >> 4) & 1;
			uint64_t t = i < size ? data[i++] : 0;
			uint64_t total = t;
			if ((b & 0x60) == 0x60)
				total = UINT64_MAX - t;
			else if (b & 0x20)
				total = st.max_message + t;
			size_t n = i < size ? data[i++] : 0;
			if (n > size - i)
				n = size - i;
			on_begin(id, total, headroom, data + i, n, serial++);
			i += n;
		} else {
			bool last = (b >> 4) & 1;
			size_t n = i < size ? data[i++] : 0;
			if (n > size - i)
				n = size - i;
			on_part(id, last, data + i, n);
			i += n;
		}
		FUZZ_ASSERT(assembly_pending(st.a) == st.pending);
		FUZZ_ASSERT(st.pending <= st.max_pending);
		size_t active = 0;
		for (int k = 0; k < NID; k++)
			active += st.ex[k].active;
		FUZZ_ASSERT(assembly_count(st.a) == active);
	}
	close_link();
	return 0;
}
