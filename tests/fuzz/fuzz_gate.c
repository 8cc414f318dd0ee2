/*
 * fuzz_gate.c — the C gate's packet splitter (services/gate_split.c), driven
 * the way service_gate.c drives it: socket reads of any size, on a few
 * connections at once, pulled out packet by packet; a connection whose
 * splitter reports an error is dead (the gate ignores its data until the
 * socket's close arrives).
 *
 * Input: the first byte c picks the header (c & 1: 4 bytes, else 2) and the
 * length limit (c >> 1 == 0: the gate's own, GATE_SPLIT_MAX; else
 * 512 * (c >> 1), so that "too big" is reached with 2-byte headers too, and
 * 4-byte headers do not make every input allocate megabytes), then a script
 * of events.  Each event starts with one byte:
 *   op = b & 3, conn = (b >> 2) % NCONN
 *   0  READ: the next byte n (0..255), then n bytes of stream for conn
 *   1  READ: the next two bytes n (u16be), then n bytes (several packets)
 *   2  CLOSE conn: its splitter is freed with any partial packet, a new one
 *      takes its place
 *   3  an empty read on conn (data NULL, size 0)
 * A reference splitter runs next to it (per connection: bytes in, whole
 * packets out, or "too big" once a header says >= the limit).  Every
 * packet must be the reference's next one for that connection, byte for
 * byte; a read ends with nothing whole left over; an error comes exactly when
 * the reference finds the bad header, and stays.  Every read is an exact-size
 * heap copy, so ASan sees any read past it, and every packet is exactly its
 * length (or 1 byte for an empty one).  The memory held for an unfinished
 * packet (gate_split_buffered) stays under the limit and within twice what
 * arrived (or one 64 KiB chunk), however long the packet announced is.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "gate_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN 3

struct model {
	uint8_t *buf; /* stream bytes not yet cut into packets */
	size_t len;
	uint8_t *want; /* whole packets found, not yet seen: len:u32be byte[len] */
	size_t wantlen;
	bool broken; /* a header said `limit` or more: nothing after it counts */
};

struct conn {
	struct gate_split *split;
	bool dead; /* the splitter failed: reads are ignored, as the gate does */
	struct model m;
};

static void append(uint8_t **b, size_t *len, const uint8_t *p, size_t n)
{
	uint8_t *nb = realloc(*b, *len + n + 1);
	FUZZ_ASSERT(nb != NULL);
	if (n > 0)
		memcpy(nb + *len, p, n);
	*b = nb;
	*len += n;
}

static int header;   /* 2 or 4 */
static size_t limit; /* first refused length */

static void model_feed(struct model *m, const uint8_t *p, size_t n)
{
	if (m->broken)
		return;
	append(&m->buf, &m->len, p, n);
	size_t at = 0;
	while (m->len - at >= (size_t)header) {
		size_t plen = 0;
		for (int k = 0; k < header; k++)
			plen = plen << 8 | m->buf[at + (size_t)k];
		if (plen >= limit) {
			m->broken = true;
			break;
		}
		if (m->len - at - (size_t)header < plen)
			break;
		uint8_t frame[4] = { (uint8_t)(plen >> 24), (uint8_t)(plen >> 16), (uint8_t)(plen >> 8),
			             (uint8_t)plen };
		append(&m->want, &m->wantlen, frame, 4);
		append(&m->want, &m->wantlen, m->buf + at + header, plen);
		at += (size_t)header + plen;
	}
	memmove(m->buf, m->buf + at, m->len - at);
	m->len -= at;
}

/* A packet the splitter produced: must be the reference's next one. */
static void model_got(struct model *m, const uint8_t *p, size_t n)
{
	FUZZ_ASSERT(m->wantlen >= 4);
	size_t plen =
		(size_t)m->want[0] << 24 | (size_t)m->want[1] << 16 | (size_t)m->want[2] << 8 | m->want[3];
	FUZZ_ASSERT(plen == n);
	FUZZ_ASSERT(n == 0 || memcmp(m->want + 4, p, n) == 0);
	memmove(m->want, m->want + 4 + plen, m->wantlen - 4 - plen);
	m->wantlen -= 4 + plen;
}

static void model_reset(struct model *m)
{
	free(m->buf);
	free(m->want);
	*m = (struct model){ NULL, 0, NULL, 0, false };
}

/* One socket read of n bytes at p (NULL when n is 0). */
static void on_read(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->dead)
		return;
	uint8_t *copy = NULL;
	if (n > 0) {
		copy = malloc(n);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, p, n);
	}
	model_feed(&c->m, p, n);
	const uint8_t *at = copy;
	size_t left = n;
	for (;;) {
		const uint8_t *before = at;
		uint8_t *pkt = NULL;
		size_t len = 0;
		enum gate_split_result r = gate_split_next(c->split, &at, &left, &pkt, &len);
		/* it only ever moves forward through this read */
		FUZZ_ASSERT(left <= n);
		FUZZ_ASSERT(n == 0 ? at == NULL : (at >= before && at == copy + (n - left)));
		if (r == GATE_SPLIT_PACKET) {
			FUZZ_ASSERT(pkt != NULL && len < limit);
			model_got(&c->m, pkt, len);
			/* an empty packet still owns one byte: touch it for ASan */
			pkt[0] = 0;
			free(pkt);
			continue;
		}
		/* nothing whole is left behind, whatever the outcome */
		FUZZ_ASSERT(c->m.wantlen == 0);
		if (r == GATE_SPLIT_NEED) {
			FUZZ_ASSERT(left == 0 && !c->m.broken);
			break;
		}
		FUZZ_ASSERT(r == GATE_SPLIT_TOOBIG && c->m.broken);
		/* the error stays, and takes nothing more */
		const uint8_t *again = at;
		size_t again_left = left;
		FUZZ_ASSERT(gate_split_next(c->split, &again, &again_left, &pkt, &len) == r);
		FUZZ_ASSERT(again == at && again_left == left);
		c->dead = true;
		break;
	}
	free(copy);
	/* memory held for an unfinished packet follows what arrived: at most
	 * twice the bytes not yet cut (or the first 64 KiB chunk), never the
	 * announced length up front, and always under the limit */
	size_t held = gate_split_buffered(c->split);
	FUZZ_ASSERT(held < limit || (held == 1 && limit == 1));
	FUZZ_ASSERT(held <= (c->m.len * 2 > 65536 ? c->m.len * 2 : 65536));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conn conns[NCONN];

	if (size == 0)
		return 0;
	header = data[0] & 1 ? 4 : 2;
	limit = data[0] >> 1 ? (size_t)(data[0] >> 1) * 512 : GATE_SPLIT_MAX;
	for (int k = 0; k < NCONN; k++) {
		conns[k].split = gate_split_new(header, limit);
		FUZZ_ASSERT(conns[k].split != NULL);
		conns[k].dead = false;
	}
	size_t i = 1;
	while (i < size) {
		uint8_t b = data[i++];
		struct conn *c = &conns[(b >> 2) % NCONN];
		size_t n;
		switch (b & 3) {
		case 0:
		case 1:
			n = i < size ? data[i++] : 0;
			if ((b & 3) == 1)
				n = n << 8 | (i < size ? data[i++] : 0);
			if (n > size - i)
				n = size - i;
			on_read(c, data + i, n);
			i += n;
			break;
		case 2:
			gate_split_free(c->split);
			model_reset(&c->m);
			c->split = gate_split_new(header, limit);
			FUZZ_ASSERT(c->split != NULL);
			c->dead = false;
			break;
		default: on_read(c, NULL, 0); break;
		}
	}
	for (int k = 0; k < NCONN; k++) {
		gate_split_free(conns[k].split);
		conns[k].split = NULL;
		model_reset(&conns[k].m);
	}
	return 0;
}
