/*
 * link.c — record framing, sealing and the link's state machine (the handshake
 * messages and keys live in handshake.c).
 *
 * Receive path invariants:
 *   - A header is checked (type allowed in this phase, length within the phase's
 *     limit, and after the handshake its tag) before a single byte of its body
 *     is buffered or allocated: a length is authenticated before it is trusted.
 *   - Before the peer's AUTH verifies, at most LINK_PREAUTH_MAX bytes of records
 *     are accepted; afterwards a body is at most max_record + LINK_MAC.
 *   - After the handshake every record is opened (authenticated) before its
 *     type is looked at.  Record n of a direction is sealed with nonce n, so
 *     the first replayed, reordered, dropped or altered record fails to open,
 *     and a failure closes the link: nothing after it is ever delivered.
 *   - A record arriving whole in the caller's `in` is opened there, in place;
 *     only a record split across reads is copied, into rx.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link_internal.h"

#define RX_KEEP (64 * 1024) /* rx buffers above this are freed between records */
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(LINK_MAC == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(LINK_HTAG == crypto_shorthash_BYTES && LINK_HTAG == sizeof(uint64_t), "header tag size");
_Static_assert(LINK_KEY_BYTES == crypto_generichash_KEYBYTES, "cluster key keys BLAKE2b");

/* ---- buffers ---------------------------------------------------------------- */

int link_buf_reserve(struct link_buf *b, size_t extra)
{
	if (extra <= b->cap - b->len)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len)
		return LINK_ENOMEM;
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap - b->len < extra)
		ncap *= 2;
	uint8_t *p = realloc(b->data, ncap);
	if (p == NULL)
		return LINK_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

void link_buf_consume(struct link_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void link_buf_free(struct link_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- helpers ---------------------------------------------------------------- */

void link_put_header(uint8_t *p, size_t body, unsigned type)
{
	p[0] = (uint8_t)(body >> 24);
	p[1] = (uint8_t)(body >> 16);
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)body;
	p[4] = (uint8_t)type;
}

static size_t get_length(const uint8_t *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

/* The tag of sealed record `seq`'s header (length and type). */
static void header_tag(uint8_t tag[LINK_HTAG], const uint8_t *hdr, uint64_t seq,
                       const uint8_t key[crypto_shorthash_KEYBYTES])
{
	uint8_t in[8 + LINK_HEADER];
	for (int i = 0; i < 8; i++)
		in[i] = (uint8_t)(seq >> (8 * i));
	memcpy(in + 8, hdr, LINK_HEADER);
	crypto_shorthash(tag, in, sizeof in, key);
}

/* Bytes of header in front of the next record's body: sealed records carry
 * the header tag, handshake records do not. */
static size_t header_len(const struct link *l)
{
	return l->phase == PHASE_OPEN ? LINK_SEALED_HEADER : LINK_HEADER;
}

static void make_nonce(uint8_t nonce[NONCE_BYTES], uint64_t seq)
{
	memset(nonce, 0, NONCE_BYTES);
	for (int i = 0; i < 8; i++)
		nonce[i] = (uint8_t)(seq >> (8 * i));
}

static void wipe_rx(struct link *l)
{
	if (l->rx.data != NULL)
		sodium_memzero(l->rx.data, l->rx.cap);
	link_buf_free(&l->rx);
	l->rx_has_header = false;
}

void link_fail(struct link *l, const char *fmt, ...)
{
	va_list ap;

	if (l->phase == PHASE_CLOSED)
		return;
	va_start(ap, fmt);
	vsnprintf(l->reason, sizeof l->reason, fmt, ap);
	va_end(ap);
	l->phase = PHASE_CLOSED;
	l->clean = false;
	hs_forget(l);
}

/* ---- lifecycle -------------------------------------------------------------- */

struct link *link_new(const struct link_config *cfg, uint64_t now_ms)
{
	struct link *l;
	size_t nlen;

	if (cfg == NULL || (cfg->cluster_key == NULL && cfg->credential == NULL) || cfg->on_record == NULL)
		return NULL;
	if (cfg->purpose < LINK_HARBOR_PEER || cfg->purpose > LINK_CLUSTER)
		return NULL;
	if (cfg->role != LINK_INITIATOR && cfg->role != LINK_RESPONDER)
		return NULL;
	nlen = strnlen(cfg->self.name, sizeof cfg->self.name);
	if (nlen > LINK_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < nlen; i++)
		if (cfg->self.name[i] < 0x20 || cfg->self.name[i] > 0x7e)
			return NULL;
	if (cfg->max_record > UINT32_MAX - LINK_MAC)
		return NULL;
	if (sodium_init() < 0)
		return NULL;

	l = calloc(1, sizeof *l);
	if (l == NULL)
		return NULL;
	l->sec = sodium_malloc(sizeof *l->sec);
	if (l->sec == NULL) {
		free(l);
		return NULL;
	}
	l->phase = PHASE_NEW;
	l->role = cfg->role;
	l->purpose = cfg->purpose;
	l->self = cfg->self;
	l->max_record = cfg->max_record ? cfg->max_record : LINK_DEFAULT_MAX_RECORD;
	l->deadline_ms =
		now_ms + (cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms : LINK_DEFAULT_HANDSHAKE_MS);
	l->last_recv_ms = now_ms;
	l->on_established = cfg->on_established;
	l->on_record = cfg->on_record;
	l->ud = cfg->ud;
	l->unix_now = cfg->unix_now ? cfg->unix_now : (uint64_t)time(NULL);
	if (hs_init(l, cfg->cluster_key, cfg->credential) != 0) {
		link_free(l);
		return NULL;
	}
	return l;
}

void link_free(struct link *l)
{
	if (l == NULL)
		return;
	wipe_rx(l);
	sodium_free(l->sec); /* wipes the whole block */
	sodium_memzero(l, sizeof *l);
	free(l);
}

int link_start(struct link *l, struct link_buf *out)
{
	if (l->phase != PHASE_NEW)
		return LINK_ESTATE;
	l->phase = PHASE_WAIT_HELLO;
	if (l->role == LINK_INITIATOR && hs_send_hello(l, out) != 0)
		return LINK_ENOMEM;
	return LINK_OK;
}

/* ---- receiving -------------------------------------------------------------- */

/* Is a record with this header acceptable now?  Pure apart from closing the link. */
static int check_header(struct link *l, const uint8_t *hdr, size_t *body)
{
	size_t len = get_length(hdr);
	unsigned type = hdr[4];

	if (l->phase == PHASE_WAIT_HELLO || l->phase == PHASE_WAIT_AUTH) {
		unsigned want = l->phase == PHASE_WAIT_HELLO ? LINK_TYPE_HELLO : LINK_TYPE_AUTH;
		if (type != want) {
			link_fail(l, "handshake failed: expected %s record, got type %u",
			          want == LINK_TYPE_HELLO ? "HELLO" : "AUTH", type);
			return -1;
		}
		if (len > LINK_PREAUTH_MAX || l->preauth + LINK_HEADER + len > LINK_PREAUTH_MAX) {
			link_fail(l,
			          "handshake failed: peer sent more than %d bytes before "
			          "authenticating",
			          LINK_PREAUTH_MAX);
			return -1;
		}
	} else if (l->phase == PHASE_OPEN) {
		uint8_t tag[LINK_HTAG];
		uint64_t want, got;
		header_tag(tag, hdr, l->rx_seq, l->sec->rx_hkey);
		/* one branch-free 8-byte compare (sodium_memcmp costs more than the tag) */
		memcpy(&want, tag, sizeof want);
		memcpy(&got, hdr + LINK_HEADER, sizeof got);
		if (want != got) {
			link_fail(l,
			          "record %llu: header failed authentication (a corrupted length or "
			          "type, or data out of step)",
			          (unsigned long long)l->rx_seq);
			return -1;
		}
		if (len < LINK_MAC || len - LINK_MAC > l->max_record) {
			link_fail(l, "record of %zu bytes is outside 16..%zu: dropping the link", len,
			          l->max_record + LINK_MAC);
			return -1;
		}
	} else {
		return -1; /* PHASE_NEW: link_start not called; PHASE_CLOSED */
	}
	*body = len;
	return 0;
}

/* The header keys, one per direction, from that direction's record key
 * (both ends derive the same pair, mirrored). */
static void derive_header_keys(struct link *l)
{
	static const uint8_t label[] = "skiff link header tag";
	crypto_generichash(l->sec->tx_hkey, sizeof l->sec->tx_hkey, label, sizeof label - 1, l->sec->tx_key,
	                   sizeof l->sec->tx_key);
	crypto_generichash(l->sec->rx_hkey, sizeof l->sec->rx_hkey, label, sizeof label - 1, l->sec->rx_key,
	                   sizeof l->sec->rx_key);
}

static void established(struct link *l)
{
	derive_header_keys(l);
	l->phase = PHASE_OPEN;
	l->proven = true;
	hs_forget(l);
	if (l->on_established != NULL)
		l->on_established(l->ud, l);
}

static void handshake_record(struct link *l, const uint8_t *rec, size_t body, struct link_buf *out)
{
	l->preauth += LINK_HEADER + body;
	if (l->phase == PHASE_WAIT_HELLO) {
		if (hs_recv_hello(l, rec, body) != 0)
			return;
		if (l->role == LINK_RESPONDER &&
		    (hs_send_hello(l, out) != 0 || hs_derive(l) != 0 || hs_send_auth(l, out) != 0))
			return;
		if (l->role == LINK_INITIATOR && hs_derive(l) != 0)
			return;
		l->phase = PHASE_WAIT_AUTH;
		return;
	}
	if (hs_recv_auth(l, rec, body) != 0)
		return;
	if (l->role == LINK_INITIATOR && hs_send_auth(l, out) != 0)
		return;
	established(l);
}

static void sealed_record(struct link *l, uint8_t *rec, size_t body, uint64_t now_ms)
{
	uint8_t nonce[NONCE_BYTES];
	unsigned type = rec[4];
	uint8_t *c = rec + LINK_SEALED_HEADER;
	size_t n = body - LINK_MAC;

	if (l->rx_seq == UINT64_MAX) {
		link_fail(l, "record counter exhausted");
		return;
	}
	make_nonce(nonce, l->rx_seq);
	/* Opens in place: libsodium checks the tag before it writes any plaintext. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(c, NULL, c, n, c + n, rec, LINK_HEADER, nonce,
	                                                        l->sec->rx_key) != 0) {
		link_fail(l,
		          "record %llu failed authentication (altered, replayed, reordered or "
		          "dropped data, or a different key)",
		          (unsigned long long)l->rx_seq);
		return;
	}
	l->rx_seq++;
	l->last_recv_ms = now_ms;
	if (type == LINK_TYPE_CLOSE) {
		char why[LINK_CLOSE_REASON_MAX + 1];
		if (hs_close_reason(c, n, why, sizeof why) != 0) {
			link_fail(l, "malformed CLOSE record");
			return;
		}
		snprintf(l->reason, sizeof l->reason, "peer closed the link%s%s", why[0] ? ": " : "", why);
		l->phase = PHASE_CLOSED;
		l->clean = true;
		return;
	}
	if (type != LINK_TYPE_HEARTBEAT && type < LINK_TYPE_USER_MIN) {
		link_fail(l, "unexpected record type %u after the handshake", type);
		return;
	}
	l->on_record(l->ud, l, type, c, n);
}

static void dispatch(struct link *l, uint8_t *rec, size_t body, uint64_t now_ms, struct link_buf *out)
{
	if (l->phase == PHASE_OPEN)
		sealed_record(l, rec, body, now_ms);
	else
		handshake_record(l, rec, body, out);
}

/* Appends up to n bytes of the current record to rx; returns how many it took. */
static size_t rx_take(struct link *l, const uint8_t *in, size_t n, size_t want)
{
	size_t take = n < want ? n : want;
	if (take > l->rx.cap - l->rx.len) {
		/* Grow with the data that actually came, never to a claimed length at once. */
		size_t goal = l->rx.len + take;
		size_t ncap = l->rx.cap ? l->rx.cap : 256;
		while (ncap < goal)
			ncap *= 2;
		size_t whole = header_len(l) + l->rx_body;
		if (l->rx_has_header && ncap > whole)
			ncap = whole;
		uint8_t *p = realloc(l->rx.data, ncap);
		if (p == NULL) {
			link_fail(l, "out of memory buffering a record");
			return 0;
		}
		l->rx.data = p;
		l->rx.cap = ncap;
	}
	memcpy(l->rx.data + l->rx.len, in, take);
	l->rx.len += take;
	return take;
}

enum link_state link_feed(struct link *l, uint8_t *in, size_t n, uint64_t now_ms, struct link_buf *out)
{
	if (n > 0 && l->phase == PHASE_NEW)
		link_fail(l, "bytes arrived before link_start (a bug in the caller)");
	while (n > 0 && l->phase != PHASE_CLOSED) {
		size_t body;
		/* The phase only changes between records, so one record has one header size. */
		size_t hl = header_len(l);
		/* Fast path: a whole record in the caller's buffer, opened in place. */
		if (l->rx.len == 0 && n >= hl) {
			if (check_header(l, in, &body) != 0)
				break;
			if (n - hl >= body) {
				dispatch(l, in, body, now_ms, out);
				in += hl + body;
				n -= hl + body;
				continue;
			}
		}
		/* Slow path: collect the record in rx. */
		if (!l->rx_has_header) {
			size_t took = rx_take(l, in, n, hl - l->rx.len);
			in += took;
			n -= took;
			if (l->rx.len < hl)
				break;
			if (check_header(l, l->rx.data, &l->rx_body) != 0)
				break;
			l->rx_has_header = true;
		}
		size_t took = rx_take(l, in, n, hl + l->rx_body - l->rx.len);
		in += took;
		n -= took;
		if (l->rx.len < hl + l->rx_body)
			break;
		dispatch(l, l->rx.data, l->rx_body, now_ms, out);
		l->rx.len = 0;
		l->rx_has_header = false;
		if (l->rx.cap > RX_KEEP)
			wipe_rx(l);
	}
	return link_state(l);
}

enum link_state link_tick(struct link *l, uint64_t now_ms)
{
	if ((l->phase == PHASE_NEW || l->phase == PHASE_WAIT_HELLO || l->phase == PHASE_WAIT_AUTH) &&
	    now_ms >= l->deadline_ms)
		link_fail(l, "handshake timed out (%s)",
		          l->phase == PHASE_WAIT_AUTH ? "no AUTH from peer" : "no HELLO from peer");
	return link_state(l);
}

enum link_state link_eof(struct link *l)
{
	if (l->phase == PHASE_OPEN)
		link_fail(l, l->rx.len > 0 ? "connection ended in the middle of a record (truncated)"
		                           : "connection ended without a CLOSE record (truncated, or "
		                             "the peer died)");
	else if (l->phase != PHASE_CLOSED)
		link_fail(l, "connection ended during the handshake");
	return link_state(l);
}

/* ---- sending ---------------------------------------------------------------- */

int link_record_begin(struct link *l, struct link_buf *out, size_t max_len, uint8_t **plain)
{
	*plain = NULL;
	if (l->phase != PHASE_OPEN)
		return LINK_ESTATE;
	if (max_len > l->max_record)
		return LINK_ETOOBIG;
	if (link_buf_reserve(out, LINK_OVERHEAD + max_len) != 0)
		return LINK_ENOMEM;
	l->reserved = max_len + 1; /* +1: a reservation of 0 bytes is still open */
	*plain = out->data + out->len + LINK_SEALED_HEADER;
	return LINK_OK;
}

static int seal_type(struct link *l, struct link_buf *out, unsigned type, size_t len)
{
	uint8_t nonce[NONCE_BYTES];
	uint8_t *rec = out->data + out->len;
	uint8_t *p = rec + LINK_SEALED_HEADER;

	if (l->tx_seq == UINT64_MAX)
		return LINK_ESTATE;
	link_put_header(rec, len + LINK_MAC, type);
	header_tag(rec + LINK_HEADER, rec, l->tx_seq, l->sec->tx_hkey);
	make_nonce(nonce, l->tx_seq++);
	/* In place: the stream cipher XORs p onto itself, then the tag covers it. */
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(p, p + len, NULL, p, len, rec, LINK_HEADER, NULL,
	                                                    nonce, l->sec->tx_key);
	out->len += LINK_OVERHEAD + len;
	return LINK_OK;
}

int link_record_commit(struct link *l, struct link_buf *out, unsigned type, size_t len)
{
	size_t reserved = l->reserved;

	l->reserved = 0;
	if (reserved == 0 || l->phase != PHASE_OPEN)
		return LINK_ESTATE;
	if (len > reserved - 1)
		return LINK_ETOOBIG;
	if (type > 255 || (type < LINK_TYPE_USER_MIN && type != LINK_TYPE_HEARTBEAT))
		return LINK_ETYPE;
	return seal_type(l, out, type, len);
}

int link_seal(struct link *l, struct link_buf *out, unsigned type, const void *data, size_t len)
{
	uint8_t *p;
	int rc = link_record_begin(l, out, len, &p);
	if (rc != LINK_OK)
		return rc;
	memcpy(p, data, len);
	return link_record_commit(l, out, type, len);
}

void link_close(struct link *l, const char *reason, struct link_buf *out)
{
	if (l->phase == PHASE_CLOSED)
		return;
	if (l->phase == PHASE_OPEN && out != NULL &&
	    link_buf_reserve(out, LINK_OVERHEAD + 3 + LINK_CLOSE_REASON_MAX) == 0) {
		size_t n = hs_pack_close(reason, out->data + out->len + LINK_SEALED_HEADER);
		seal_type(l, out, LINK_TYPE_CLOSE, n);
	}
	snprintf(l->reason, sizeof l->reason, "closed here%s%s", reason && *reason ? ": " : "",
	         reason ? reason : "");
	l->phase = PHASE_CLOSED;
	l->clean = true;
	l->reserved = 0;
	hs_forget(l);
}

/* ---- queries ---------------------------------------------------------------- */

enum link_state link_state(const struct link *l)
{
	switch (l->phase) {
	case PHASE_OPEN: return LINK_ESTABLISHED;
	case PHASE_CLOSED: return LINK_CLOSED;
	default: return LINK_HANDSHAKE;
	}
}

const struct link_identity *link_peer(const struct link *l)
{
	/* Only once proven; after a close it stays readable for the log line. */
	return l->proven ? &l->peer : NULL;
}

const char *link_reason(const struct link *l)
{
	return l->reason;
}

bool link_clean(const struct link *l)
{
	return l->phase == PHASE_CLOSED && l->clean;
}

uint64_t link_last_recv(const struct link *l)
{
	return l->last_recv_ms;
}

uint64_t link_silent_ms(const struct link *l, uint64_t now, uint64_t read_age_ms)
{
	uint64_t silent = now > l->last_recv_ms ? now - l->last_recv_ms : 0;
	return read_age_ms < silent ? read_age_ms : silent;
}

size_t link_max_record(const struct link *l)
{
	return l->max_record;
}

const char *link_strerror(int err)
{
	switch (err) {
	case LINK_OK: return "ok";
	case LINK_ESTATE: return "link is not established";
	case LINK_ETOOBIG: return "message larger than the link's maximum record";
	case LINK_ENOMEM: return "out of memory";
	case LINK_ETYPE: return "record type reserved for the link";
	default: return "unknown link error";
	}
}
