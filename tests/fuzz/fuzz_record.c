/*
 * fuzz_record.c — the post-handshake record decoder.  The input is fed to an
 * established responder as if the deterministic initiator had sent it; seeds
 * are valid sealed streams from that initiator.
 *
 * Every input gets a fresh responder in exactly the state the handshake left
 * it in.  The handshake (four X25519 operations) runs once, at the first
 * input; its result is kept as a snapshot of the responder's struct link and
 * secrets, and each input's responder is a normal link_new'd link (its own
 * heap block and sodium_malloc'd secrets, as in production) with the snapshot
 * copied in.  That is what link_internal.h is used for, here only: running
 * the handshake per input made this target ~15 times slower, and the handshake
 * has its own targets.  The snapshot is checked before use: a clone must open
 * the initiator's next records and its records must open at the initiator.
 * If struct link grows a field that owns memory, the copy below shares it and
 * ASan reports a double free at once; give the field a fresh value in
 * responder_from_snapshot.
 */
#include <string.h>

#include "fuzz_common.h"
#include "link_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	size_t count;
	size_t bytes;
};

static struct link snap;             /* the responder right after the handshake */
static struct link_secrets snap_sec; /* and its keys */

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *p, size_t len)
{
	struct sink *s = ud;
	FUZZ_ASSERT(type == LINK_TYPE_HEARTBEAT || type >= LINK_TYPE_USER_MIN);
	FUZZ_ASSERT(len <= link_max_record(l));
	if (len > 0) /* touch every byte: the record must be readable */
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

/* A new link (own allocations) in the snapshot's state. */
static struct link *responder_from_snapshot(link_record_fn *fn, void *ud)
{
	struct link *l = fuzz_link(LINK_RESPONDER, fn, ud);
	FUZZ_ASSERT(l != NULL);
	struct link_secrets *sec = l->sec;
	*l = snap;
	*sec = snap_sec;
	l->sec = sec;
	l->rx = (struct link_buf){ NULL, 0, 0 }; /* empty in the snapshot (checked) */
	l->on_record = fn;
	l->ud = ud;
	return l;
}

/* Runs the handshake once and keeps the responder's state. */
static void setup(void)
{
	struct link_buf iout = { 0 }, rout = { 0 };
	struct sink si = { 0 }, sr = { 0 };

	fuzz_init();
	fuzz_rng_stream(1);
	struct link *i = fuzz_link(LINK_INITIATOR, on_record, &si);
	FUZZ_ASSERT(i != NULL && link_start(i, &iout) == LINK_OK);
	fuzz_rng_stream(0);
	struct link *r = fuzz_link(LINK_RESPONDER, on_record, &sr);
	FUZZ_ASSERT(r != NULL && link_start(r, &rout) == LINK_OK);
	pump(i, &iout, r, &rout);
	FUZZ_ASSERT(link_state(i) == LINK_ESTABLISHED && link_state(r) == LINK_ESTABLISHED);
	FUZZ_ASSERT(r->rx.len == 0 && !r->rx_has_header && r->reserved == 0);
	snap = *r;
	snap_sec = *r->sec;
	link_free(r);

	/* the clone reads what the initiator seals next, and answers it */
	struct sink sc = { 0 };
	struct link *c = responder_from_snapshot(on_record, &sc);
	FUZZ_ASSERT(link_seal(i, &iout, LINK_TYPE_HEARTBEAT, "", 0) == LINK_OK);
	FUZZ_ASSERT(link_seal(i, &iout, LINK_TYPE_USER_MIN, "probe", 5) == LINK_OK);
	FUZZ_ASSERT(link_feed(c, iout.data, iout.len, 0, &rout) == LINK_ESTABLISHED);
	FUZZ_ASSERT(sc.count == 2);
	FUZZ_ASSERT(link_seal(c, &rout, LINK_TYPE_USER_MIN, "back", 4) == LINK_OK);
	size_t before = si.count;
	FUZZ_ASSERT(link_feed(i, rout.data, rout.len, 0, &iout) == LINK_ESTABLISHED);
	FUZZ_ASSERT(si.count == before + 1);
	link_free(c);
	link_free(i);
	link_buf_free(&iout);
	link_buf_free(&rout);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct link_buf rout = { 0 };
	struct sink sr = { 0 };

	if (!ready) {
		setup();
		ready = true;
	}
	struct link *r = responder_from_snapshot(on_record, &sr);
	FUZZ_ASSERT(link_state(r) == LINK_ESTABLISHED);

	fuzz_feed(r, data, size, &rout);
	if (link_state(r) == LINK_CLOSED)
		FUZZ_ASSERT(link_reason(r)[0] != '\0');
	link_eof(r);
	FUZZ_ASSERT(link_state(r) == LINK_CLOSED);
	link_free(r);
	link_buf_free(&rout);
	return 0;
}
