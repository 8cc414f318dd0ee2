/*
 * fuzz_gate_ws.c — the C gate's WebSocket state machine (service-src/gate_ws.c),
 * driven the way service_gate.c drives it: socket reads of any size pulled
 * out event by event.
 *
 * Input: byte 0 picks the mode and the message cap (max = 64 * (1 + (b >> 2))
 * bytes, so "too big" is reachable), then:
 *   b & 1 == 0  RAW: b & 2 says whether a valid handshake is fed first; the
 *               rest is cut into reads (a length byte, then that many bytes)
 *               and fed as is.  Invariants: an event never comes after CLOSE
 *               or ERROR; a MESSAGE is under the cap (text ones are UTF-8);
 *               REPLY/CLOSE/ERROR bytes are a 101 response, an HTTP error or
 *               a well-formed server frame (unmasked, fin, control <= 125);
 *               the memory held follows what arrived (never the announced
 *               length) and stays under the cap; the input always advances.
 *   b & 1 == 1  ROUND TRIP: the rest describes messages (op byte, length
 *               byte, payload, fragment count, a ping between fragments or
 *               not), encoded here as masked client frames with keys from the
 *               input and fed in reads of input-chosen sizes; the gate must
 *               yield exactly those messages (those at or over the cap close
 *               with 1009, and nothing follows), and a pong echoing each ping.
 * Every read is an exact-size heap copy so ASan sees any read past it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "gate_ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char HANDSHAKE[] = "GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\n"
				"Connection: keep-alive, Upgrade\r\n"
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				"Sec-WebSocket-Version: 13\r\n\r\n";

struct run {
	struct gate_ws *w;
	size_t max;
	bool over; /* CLOSE or ERROR seen */
	bool opened;
	size_t fed; /* bytes fed since the last event, for the memory bound */
	/* round trip: what must come out, in order */
	uint8_t *want; /* records: kind:u8 len:u32 bytes */
	size_t wantlen, wantat;
	bool expect_toobig;
};

static void check_server_frame(const uint8_t *p, size_t n, bool close)
{
	FUZZ_ASSERT(n >= 2);
	FUZZ_ASSERT((p[0] & 0x80) && !(p[0] & 0x70)); /* fin, no rsv */
	FUZZ_ASSERT(!(p[1] & 0x80));                  /* servers never mask */
	size_t len = p[1] & 0x7f;
	FUZZ_ASSERT(len <= 125 && n == 2 + len);
	uint8_t op = p[0] & 0x0f;
	FUZZ_ASSERT(close ? op == GATE_WS_OP_CLOSE : (op == GATE_WS_PONG || op == GATE_WS_OP_CLOSE));
}

static void take_want(struct run *r, uint8_t kind, const uint8_t *p, size_t n)
{
	if (r->want == NULL)
		return;
	FUZZ_ASSERT(r->wantat + 5 <= r->wantlen);
	const uint8_t *rec = r->want + r->wantat;
	size_t len = (size_t)rec[1] << 24 | (size_t)rec[2] << 16 | (size_t)rec[3] << 8 | rec[4];
	FUZZ_ASSERT(rec[0] == kind && len == n);
	FUZZ_ASSERT(n == 0 || memcmp(rec + 5, p, n) == 0);
	r->wantat += 5 + len;
}

static void feed(struct run *r, const uint8_t *p, size_t n)
{
	uint8_t *copy = NULL;
	if (n > 0) {
		copy = malloc(n);
		FUZZ_ASSERT(copy != NULL);
		memcpy(copy, p, n);
	}
	const uint8_t *at = copy;
	size_t left = n;
	r->fed += n;
	for (;;) {
		uint8_t *out = NULL;
		size_t outlen = 0;
		size_t before = left;
		enum gate_ws_result res = gate_ws_next(r->w, &at, &left, &out, &outlen);
		FUZZ_ASSERT(left <= before);
		FUZZ_ASSERT(n == 0 || at == copy + (n - left));
		FUZZ_ASSERT(gate_ws_buffered(r->w) <= (r->opened ? r->max : GATE_WS_MAX_REQUEST));
		if (res == GATE_WS_NEED) {
			FUZZ_ASSERT(left == 0 && out == NULL);
			break;
		}
		FUZZ_ASSERT(!r->over);
		switch (res) {
		case GATE_WS_MESSAGE:
			FUZZ_ASSERT(r->opened && out != NULL && outlen < r->max);
			take_want(r, 'm', out, outlen);
			out[0] ^= 0; /* it owns at least a byte */
			break;
		case GATE_WS_REPLY:
			FUZZ_ASSERT(out != NULL);
			if (!r->opened) {
				FUZZ_ASSERT(gate_ws_open(r->w));
				FUZZ_ASSERT(outlen > 12 && memcmp(out, "HTTP/1.1 101", 12) == 0);
				r->opened = true;
			} else {
				check_server_frame(out, outlen, false);
				FUZZ_ASSERT((out[0] & 0x0f) == GATE_WS_PONG);
				take_want(r, 'p', out + 2, outlen - 2);
			}
			break;
		case GATE_WS_CLOSE:
			FUZZ_ASSERT(r->opened);
			check_server_frame(out, outlen, true);
			r->over = true;
			break;
		default:
			FUZZ_ASSERT(res == GATE_WS_ERROR);
			FUZZ_ASSERT(gate_ws_error(r->w)[0] != '\0');
			if (out != NULL) {
				if (r->opened)
					check_server_frame(out, outlen, true);
				else
					FUZZ_ASSERT(outlen > 9 && memcmp(out, "HTTP/1.1 ", 9) == 0);
			}
			if (r->want != NULL) {
				/* a round trip fails only on a message over the cap */
				FUZZ_ASSERT(r->expect_toobig && out != NULL && outlen >= 4);
				FUZZ_ASSERT((out[2] << 8 | out[3]) == 1009);
			}
			r->over = true;
			break;
		}
		if (res != GATE_WS_REPLY) /* a pong may come between two fragments */
			r->fed = left;    /* what is left of this read is fed after it */
		free(out);
	}
	free(copy);
	/* an unfinished message holds at most twice the bytes fed since the
	 * last message (its buffer doubles from what arrived), and never more
	 * than the cap, whatever a header announced */
	size_t held = gate_ws_buffered(r->w);
	FUZZ_ASSERT(held <= (r->opened ? r->max : GATE_WS_MAX_REQUEST));
	FUZZ_ASSERT(held <= 2 * r->fed);
}

/* ---- round trip: build the stream ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

/* Room for n more bytes; returns where they go. */
static uint8_t *grow(struct buf *b, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap * 2 > b->n + n + 1 ? b->cap * 2 : b->n + n + 1;
		uint8_t *nb = realloc(b->p, cap);
		FUZZ_ASSERT(nb != NULL);
		b->p = nb;
		b->cap = cap;
	}
	uint8_t *at = b->p + b->n;
	b->n += n;
	return at;
}

static void put(struct buf *b, const void *p, size_t n)
{
	uint8_t *at = grow(b, n);
	if (n > 0)
		memcpy(at, p, n);
}

static void put_frame(struct buf *b, uint8_t op, bool fin, const uint8_t *p, size_t n, const uint8_t key[4])
{
	uint8_t h[14];
	size_t hl = 2;
	h[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		h[1] = (uint8_t)(0x80 | n);
	} else if (n < 65536) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(h + hl, key, 4);
	put(b, h, hl + 4);
	uint8_t *at = grow(b, n);
	for (size_t i = 0; i < n; i++)
		at[i] = p[i] ^ key[i & 3];
}

static void want(struct buf *w, uint8_t kind, const uint8_t *p, size_t n)
{
	uint8_t rec[5] = { kind, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	put(w, rec, 5);
	put(w, p, n);
}

static void round_trip(struct run *r, const uint8_t *data, size_t size)
{
	struct buf stream = { NULL, 0, 0 }, w = { NULL, 0, 0 };
	size_t i = 0;
	uint8_t key[4] = { 1, 2, 3, 4 };
	/* the cut points of the reads come from the tail of the input */
	size_t cuts = size / 4;
	const uint8_t *cut = data + size - cuts;
	size = size - cuts;
	while (i + 3 <= size && !r->expect_toobig) {
		uint8_t op = data[i], len = data[i + 1], frags = (uint8_t)(1 + (data[i + 2] & 3));
		bool ping = data[i + 2] & 4;
		size_t mul = (data[i + 2] & 8) ? 4 : 1; /* repeat the payload: longer messages */
		i += 3;
		if (len > size - i)
			len = (uint8_t)(size - i);
		struct buf msg = { NULL, 0, 0 };
		for (size_t k = 0; k < mul; k++)
			put(&msg, data + i, len);
		i += len;
		if (i + 4 <= size) {
			memcpy(key, data + i, 4);
			i += 4;
		}
		bool text = op & 1;
		if (text) /* text must be UTF-8: keep ASCII */
			for (size_t k = 0; k < msg.n; k++)
				msg.p[k] &= 0x7f;
		size_t per = msg.n / frags;
		for (size_t f = 0; f < frags; f++) {
			size_t from = f * per, to = f + 1 == frags ? msg.n : from + per;
			put_frame(&stream,
			          f == 0 ? (text ? GATE_WS_TEXT : GATE_WS_BINARY) : GATE_WS_CONTINUATION,
			          f + 1 == frags, msg.p + from, to - from, key);
			if (ping && f == 0) {
				/* after the first fragment: its pong comes before the
				 * message, unless that fragment was the whole message */
				put_frame(&stream, GATE_WS_PING, true, msg.p, msg.n < 125 ? msg.n : 125, key);
				size_t first = frags == 1 ? msg.n : per;
				if (frags == 1 && msg.n < r->max)
					want(&w, 'm', msg.p, msg.n);
				if (first < r->max) /* else the gate fails before the ping */
					want(&w, 'p', msg.p, msg.n < 125 ? msg.n : 125);
			}
		}
		if (msg.n >= r->max)
			r->expect_toobig = true;
		else if (!(ping && frags == 1))
			want(&w, 'm', msg.p, msg.n);
		free(msg.p);
	}
	r->want = w.p ? w.p : (uint8_t *)calloc(1, 1);
	r->wantlen = w.n;
	size_t at = 0, c = 0;
	while (at < stream.n) {
		size_t n = c < cuts ? (size_t)cut[c++] + 1 : stream.n - at;
		if (n > stream.n - at)
			n = stream.n - at;
		feed(r, stream.p + at, n);
		at += n;
	}
	/* everything expected came out, in order (after a 1009 the rest is void) */
	if (!r->expect_toobig)
		FUZZ_ASSERT(r->wantat == r->wantlen && !r->over);
	else
		FUZZ_ASSERT(r->over);
	free(stream.p);
	free(r->want);
	r->want = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct run r;
	memset(&r, 0, sizeof(r));
	r.max = 64 * (1 + (size_t)(data[0] >> 2));
	r.w = gate_ws_new(r.max);
	FUZZ_ASSERT(r.w != NULL);
	bool trip = data[0] & 1;
	if (trip || (data[0] & 2)) {
		feed(&r, (const uint8_t *)HANDSHAKE, sizeof(HANDSHAKE) - 1);
		FUZZ_ASSERT(r.opened && !r.over);
	}
	if (trip) {
		round_trip(&r, data + 1, size - 1);
	} else {
		size_t i = 1;
		while (i < size) {
			size_t n = data[i++];
			if (n > size - i)
				n = size - i;
			feed(&r, data + i, n);
			i += n;
		}
	}
	gate_ws_free(r.w);
	return 0;
}
