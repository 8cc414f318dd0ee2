/*
 * link_test.c — the secure link, driven in memory: handshake, hostile
 * handshakes, record protection, limits, timeouts, odd read sizes, batches.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "link.pb-c.h"
#include "link_internal.h" /* LINK_VERSION */
#include "linkpair.h"

#define T0 1000000u /* the clock at which links are created, ms */
#define TYPE_APP 16

static uint8_t key[LINK_KEY_BYTES];
static uint8_t other_key[LINK_KEY_BYTES];

static void pair_new(struct pair_end *i, struct pair_end *r)
{
	end_init(i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "alpha", 111, key, T0);
	end_init(r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
}

static void pair_free(struct pair_end *i, struct pair_end *r)
{
	end_free(i);
	end_free(r);
}

static void established_pair(struct pair_end *i, struct pair_end *r)
{
	pair_new(i, r);
	CHECK(pair_handshake(i, r, T0, 0) == 0);
}

static void seal_str(struct pair_end *e, unsigned type, const char *s)
{
	CHECK(link_seal(e->l, &e->out, type, s, strlen(s)) == LINK_OK);
}

/* The n-th delivered record of e equals (type, s). */
static void check_record(const struct pair_end *e, size_t n, unsigned type, const char *s)
{
	size_t len = 0;
	const uint8_t *d = NULL;
	CHECK(end_nth(e, n, &d, &len) == type);
	CHECK(len == strlen(s));
	CHECK(memcmp(d, s, len) == 0);
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ---- handshake -------------------------------------------------------------- */

static void test_handshake_ok(void)
{
	struct pair_end i, r;
	pair_new(&i, &r);
	CHECK(link_peer(i.l) == NULL && link_peer(r.l) == NULL);
	CHECK(pair_handshake(&i, &r, T0, 0) == 0);
	CHECK(i.established == 1 && r.established == 1);

	const struct link_identity *pi = link_peer(i.l), *pr = link_peer(r.l);
	CHECK(pi != NULL && pr != NULL);
	CHECK(pi->node_id == 2 && pi->incarnation == 222 && strcmp(pi->name, "beta") == 0);
	CHECK(pr->node_id == 1 && pr->incarnation == 111 && strcmp(pr->name, "alpha") == 0);

	seal_str(&i, TYPE_APP, "ping");
	seal_str(&r, TYPE_APP + 1, "pong");
	seal_str(&r, LINK_TYPE_HEARTBEAT, "hb");
	pair_pump(&i, &r, T0 + 5, 0);
	CHECK(r.nrec == 1 && i.nrec == 2);
	check_record(&r, 0, TYPE_APP, "ping");
	check_record(&i, 0, TYPE_APP + 1, "pong");
	check_record(&i, 1, LINK_TYPE_HEARTBEAT, "hb");
	CHECK(link_last_recv(r.l) == T0 + 5);
	/* silence: since the last record, unless the transport read bytes later */
	CHECK(link_silent_ms(r.l, T0 + 3005, UINT64_MAX) == 3000);
	CHECK(link_silent_ms(r.l, T0 + 3005, 40) == 40);
	CHECK(link_silent_ms(r.l, T0 + 1, UINT64_MAX) == 0);

	/* The link keeps its reserved types to itself. */
	CHECK(link_seal(i.l, &i.out, 3, "x", 1) == LINK_ETYPE);
	CHECK(link_seal(i.l, &i.out, 1, "x", 1) == LINK_ETYPE);
	CHECK(link_seal(i.l, &i.out, 256, "x", 1) == LINK_ETYPE);
	CHECK(link_state(i.l) == LINK_ESTABLISHED);
	pair_free(&i, &r);

	/* Cluster links identify nodes by name, id 0; the roles may be either way round. */
	end_init(&i, LINK_INITIATOR, LINK_CLUSTER, 0, "db-7", 9, key, T0);
	end_init(&r, LINK_RESPONDER, LINK_CLUSTER, 0, "gate_1", 10, key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) == 0);
	CHECK(strcmp(link_peer(i.l)->name, "gate_1") == 0 && link_peer(i.l)->incarnation == 10);
	CHECK(strcmp(link_peer(r.l)->name, "db-7") == 0 && link_peer(r.l)->node_id == 0);
	pair_free(&i, &r);
}

static void test_wrong_key(void)
{
	struct pair_end i, r;
	end_init(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "alpha", 111, key, T0);
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, other_key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) != 0);
	/* The initiator checks the responder's AUTH first and refuses it. */
	CHECK(link_state(i.l) == LINK_CLOSED && i.established == 0);
	CHECK(contains(link_reason(i.l), "bad AUTH"));
	CHECK(!link_clean(i.l) && link_peer(i.l) == NULL);
	/* The responder never hears an AUTH and gives up at its deadline. */
	CHECK(r.established == 0 && link_state(r.l) == LINK_HANDSHAKE);
	CHECK(link_tick(r.l, T0 + LINK_DEFAULT_HANDSHAKE_MS) == LINK_CLOSED);
	pair_free(&i, &r);

	/* Keys the other way round: same outcome, nobody gets through. */
	end_init(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "alpha", 111, other_key, T0);
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) != 0);
	CHECK(i.established == 0 && r.established == 0);
	pair_free(&i, &r);
}

static void test_purpose_and_version(void)
{
	struct pair_end i, r;
	end_init(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "alpha", 111, key, T0);
	end_init(&r, LINK_RESPONDER, LINK_CLUSTER, 0, "beta", 222, key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) != 0);
	CHECK(link_state(r.l) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "peer wants a harbor peer link, this end is cluster"));
	CHECK(link_eof(i.l) == LINK_CLOSED);
	CHECK(contains(link_reason(i.l), "during the handshake"));
	pair_free(&i, &r);

	end_init(&i, LINK_INITIATOR, LINK_HARBOR_MASTER, 1, "alpha", 111, key, T0);
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) != 0);
	CHECK(contains(link_reason(r.l), "harbor master"));
	pair_free(&i, &r);
}

static void small_rec_dummy(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len)
{
	(void)ud;
	(void)l;
	(void)type;
	(void)data;
	(void)len;
}

static void test_bad_config(void)
{
	struct pair_end e;
	struct link_config cfg = { .role = LINK_INITIATOR, .purpose = LINK_HARBOR_PEER, .cluster_key = key };
	CHECK(link_new(&cfg, T0) == NULL); /* no on_record */
	end_init(&e, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "ok", 1, key, T0);
	end_free(&e);
	cfg.on_record = small_rec_dummy;
	CHECK((e.l = link_new(&cfg, T0)) != NULL); /* the minimal valid config */
	link_free(e.l);
	snprintf(cfg.self.name, sizeof cfg.self.name, "bad\nname");
	CHECK(link_new(&cfg, T0) == NULL);
	cfg.self.name[0] = '\0';
	cfg.purpose = 0;
	CHECK(link_new(&cfg, T0) == NULL);
	cfg.purpose = LINK_CLUSTER;
	cfg.cluster_key = NULL;
	CHECK(link_new(&cfg, T0) == NULL);
	CHECK(link_new(NULL, T0) == NULL);
	link_free(NULL);

	/* Input before link_start is a caller bug: refused loudly, not dropped. */
	end_init(&e, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "r", 1, key, T0);
	uint8_t byte[1] = { 0 };
	CHECK(link_feed(e.l, byte, 1, T0, &e.out) == LINK_CLOSED);
	CHECK(contains(link_reason(e.l), "before link_start"));
	CHECK(link_start(e.l, &e.out) == LINK_ESTATE);
	end_free(&e);
}

/* Flips `mask` into byte `pos` of flight `flight` (0: initiator HELLO, 1: responder
 * HELLO+AUTH, 2: initiator AUTH).  Returns false once pos is past the flight. */
static bool tamper_once(int flight, size_t pos, uint8_t mask)
{
	struct pair_end i, r;
	struct pair_end *ends[3] = { &i, &r, &i };
	bool inside = true;

	pair_new(&i, &r);
	CHECK(link_start(i.l, &i.out) == LINK_OK && link_start(r.l, &r.out) == LINK_OK);
	for (int f = 0; f < 3; f++) {
		struct pair_end *from = ends[f], *to = f == 1 ? &i : &r;
		if (f == flight) {
			if (pos >= from->out.len)
				inside = false;
			else
				from->out.data[pos] ^= mask;
		}
		end_send(from, to, T0, 0);
	}
	if (inside) {
		/* An initiator that thinks it is through sends data; it must go nowhere. */
		if (link_state(i.l) == LINK_ESTABLISHED) {
			seal_str(&i, TYPE_APP, "must not arrive");
			end_send(&i, &r, T0, 0);
		}
		CHECK(r.established == 0 && r.nrec == 0 && i.nrec == 0);
		CHECK(link_peer(r.l) == NULL);
		if (flight < 2)
			CHECK(i.established == 0 && link_state(i.l) != LINK_ESTABLISHED);
		CHECK(link_tick(r.l, T0 + LINK_DEFAULT_HANDSHAKE_MS) == LINK_CLOSED);
		CHECK(link_tick(i.l, T0 + LINK_DEFAULT_HANDSHAKE_MS) != LINK_HANDSHAKE);
	}
	pair_free(&i, &r);
	return inside;
}

static void test_tamper_handshake(void)
{
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };
	for (int flight = 0; flight < 3; flight++) {
		size_t pos = 0;
		for (;; pos++) {
			bool inside = true;
			for (size_t m = 0; m < sizeof masks; m++)
				inside = tamper_once(flight, pos, masks[m]);
			if (!inside)
				break;
		}
		CHECK(pos > 30); /* every flight is a real message */
	}
}

static void test_replayed_handshake(void)
{
	struct pair_end i, r, r2;
	struct link_buf hello = { 0 }, auth = { 0 };

	/* Record an honest session's initiator side. */
	pair_new(&i, &r);
	CHECK(link_start(i.l, &i.out) == LINK_OK && link_start(r.l, &r.out) == LINK_OK);
	CHECK(link_buf_reserve(&hello, i.out.len) == 0);
	memcpy(hello.data, i.out.data, hello.len = i.out.len);
	end_send(&i, &r, T0, 0);
	end_send(&r, &i, T0, 0);
	seal_str(&i, TYPE_APP, "transfer 100 gold");
	CHECK(link_buf_reserve(&auth, i.out.len) == 0);
	memcpy(auth.data, i.out.data, auth.len = i.out.len); /* AUTH + the data record */
	end_send(&i, &r, T0, 0);
	CHECK(r.established == 1 && r.nrec == 1);

	/* Play it to a fresh responder. */
	end_init(&r2, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r2.l, &r2.out) == LINK_OK);
	CHECK(link_feed(r2.l, hello.data, hello.len, T0, &r2.out) == LINK_HANDSHAKE);
	CHECK(r2.out.len > 0); /* it answers with its own, fresh HELLO and AUTH */
	CHECK(link_feed(r2.l, auth.data, auth.len, T0, &r2.out) == LINK_CLOSED);
	CHECK(r2.established == 0 && r2.nrec == 0);
	CHECK(contains(link_reason(r2.l), "bad AUTH"));
	link_buf_free(&hello);
	link_buf_free(&auth);
	end_free(&r2);
	pair_free(&i, &r);
}

/* A HELLO as a hostile peer would craft it, padded with an unknown field to a
 * body of exactly `body` bytes (when body > the natural size). */
static void craft_hello(struct link_buf *out, size_t body, const uint8_t *pk, uint32_t version)
{
	uint8_t nonce[32] = { 7 }, pad[600];
	uint8_t sk[32], mypk[32];
	Skiff__Link__Hello h = SKIFF__LINK__HELLO__INIT;
	ProtobufCMessageUnknownField uf;

	crypto_box_keypair(mypk, sk);
	h.version = version;
	h.purpose = SKIFF__LINK__PURPOSE__HARBOR_PEER;
	h.node_id = 9;
	h.node_name = "mallory";
	h.incarnation = 5;
	h.ephemeral.data = (uint8_t *)(pk ? pk : mypk);
	h.ephemeral.len = 32;
	h.nonce.data = nonce;
	h.nonce.len = sizeof nonce;
	size_t natural = protobuf_c_message_get_packed_size(&h.base);
	if (body > natural) {
		/* field 100, length delimited: 2 tag bytes + varint length + k bytes */
		size_t k = body - natural - 3; /* with a one-byte length */
		if (k >= 128)
			k--; /* two-byte length */
		CHECK(k <= 500 && k >= 1);
		memset(pad, 0, sizeof pad);
		size_t vl = 0;
		if (k < 128) {
			pad[vl++] = (uint8_t)k;
		} else {
			pad[vl++] = (uint8_t)(0x80 | (k & 0x7f));
			pad[vl++] = (uint8_t)(k >> 7);
		}
		uf.tag = 100;
		uf.wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
		uf.len = vl + k;
		uf.data = pad;
		h.base.n_unknown_fields = 1;
		h.base.unknown_fields = &uf;
	}
	size_t n = protobuf_c_message_get_packed_size(&h.base);
	if (body > natural)
		CHECK(n == body);
	CHECK(link_buf_reserve(out, LINK_HEADER + n) == 0);
	out->data[out->len + 0] = (uint8_t)(n >> 24);
	out->data[out->len + 1] = (uint8_t)(n >> 16);
	out->data[out->len + 2] = (uint8_t)(n >> 8);
	out->data[out->len + 3] = (uint8_t)n;
	out->data[out->len + 4] = 1;
	protobuf_c_message_pack(&h.base, out->data + out->len + LINK_HEADER);
	out->len += LINK_HEADER + n;
	sodium_memzero(sk, sizeof sk);
}

static void test_preauth_limit(void)
{
	struct pair_end r;
	struct link_buf in = { 0 };

	/* A HELLO with 300 bytes of unknown field: accepted (unknown fields are
	 * ignored) and answered. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	craft_hello(&in, 470, NULL, LINK_VERSION);
	CHECK(in.len == 475);
	CHECK(link_feed(r.l, in.data, in.len, T0, &r.out) == LINK_HANDSHAKE);
	CHECK(r.out.len > 0);
	/* Its AUTH would take the total past 512 bytes: refused on the header alone. */
	uint8_t auth_hdr[LINK_HEADER] = { 0, 0, 0, 34, 2 };
	CHECK(link_feed(r.l, auth_hdr, sizeof auth_hdr, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "more than 512 bytes before authenticating"));
	end_free(&r);
	link_buf_free(&in);

	/* A single HELLO over the budget is refused before its body is read. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	uint8_t big_hdr[LINK_HEADER] = { 0, 0, 0x01, 0xfc, 1 }; /* 508 + 5 > 512 */
	CHECK(link_feed(r.l, big_hdr, sizeof big_hdr, T0, &r.out) == LINK_CLOSED);
	CHECK(r.out.len == 0);
	end_free(&r);

	/* ...and a HELLO whose header claims 4 GiB. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	uint8_t huge_hdr[LINK_HEADER] = { 0xff, 0xff, 0xff, 0xff, 1 };
	CHECK(link_feed(r.l, huge_hdr, sizeof huge_hdr, T0, &r.out) == LINK_CLOSED);
	end_free(&r);

	/* Garbage first: wrong record type. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	uint8_t get[] = "GET / HTTP/1.1\r\n\r\n";
	CHECK(link_feed(r.l, get, sizeof get - 1, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "expected HELLO"));
	end_free(&r);
}

static void test_hostile_hellos(void)
{
	struct pair_end r;
	struct link_buf in = { 0 };
	static const uint8_t zero_pk[32];

	/* A low-order (all zero) ephemeral key gives an all-zero shared secret. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	craft_hello(&in, 0, zero_pk, LINK_VERSION);
	CHECK(link_feed(r.l, in.data, in.len, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "degenerate"));
	end_free(&r);
	in.len = 0;

	/* Another protocol version. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	craft_hello(&in, 0, NULL, LINK_VERSION + 1);
	CHECK(link_feed(r.l, in.data, in.len, T0, &r.out) == LINK_CLOSED);
	char other[32];
	snprintf(other, sizeof other, "version %d", LINK_VERSION + 1);
	CHECK(contains(link_reason(r.l), other));
	end_free(&r);
	in.len = 0;

	/* Not protobuf at all. */
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "beta", 222, key, T0);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	uint8_t junk[] = { 0, 0, 0, 4, 1, 0xff, 0xff, 0xff, 0xff };
	CHECK(link_feed(r.l, junk, sizeof junk, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "malformed HELLO"));
	end_free(&r);
	link_buf_free(&in);
}

static void test_timeout(void)
{
	struct pair_end i, r;

	/* Nobody says anything. */
	pair_new(&i, &r);
	CHECK(link_start(r.l, &r.out) == LINK_OK);
	CHECK(link_tick(r.l, T0 + LINK_DEFAULT_HANDSHAKE_MS - 1) == LINK_HANDSHAKE);
	CHECK(link_tick(r.l, T0 + LINK_DEFAULT_HANDSHAKE_MS) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "timed out"));
	pair_free(&i, &r);

	/* A peer that stops half-way: HELLO, then silence. */
	pair_new(&i, &r);
	CHECK(link_start(i.l, &i.out) == LINK_OK && link_start(r.l, &r.out) == LINK_OK);
	end_send(&i, &r, T0 + 10, 0);
	CHECK(link_tick(r.l, T0 + 4999) == LINK_HANDSHAKE);
	CHECK(link_tick(r.l, T0 + 5000) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "no AUTH"));
	pair_free(&i, &r);

	/* A configured timeout. */
	struct link_config cfg = { .role = LINK_RESPONDER,
		                   .purpose = LINK_HARBOR_PEER,
		                   .cluster_key = key,
		                   .handshake_timeout_ms = 50,
		                   .on_record = small_rec_dummy };
	struct link *l = link_new(&cfg, T0);
	CHECK(link_tick(l, T0 + 49) == LINK_HANDSHAKE);
	CHECK(link_tick(l, T0 + 50) == LINK_CLOSED);
	link_free(l);

	/* An established link never times out here: liveness is the user's business. */
	established_pair(&i, &r);
	CHECK(link_tick(i.l, T0 + 1000000) == LINK_ESTABLISHED);
	pair_free(&i, &r);
}

static void test_reject_identity(void)
{
	struct pair_end i, r;
	pair_new(&i, &r);
	r.reject = "node 1 is already connected";
	CHECK(pair_handshake(&i, &r, T0, 0) != 0);
	CHECK(r.established == 1 && link_state(r.l) == LINK_CLOSED && link_clean(r.l));
	CHECK(contains(link_reason(r.l), "closed here: node 1 is already connected"));
	/* The initiator learns why, through the sealed CLOSE. */
	CHECK(link_state(i.l) == LINK_CLOSED && link_clean(i.l));
	CHECK(strcmp(link_reason(i.l), "peer closed the link: node 1 is already connected") == 0);
	CHECK(i.nrec == 0);
	pair_free(&i, &r);

	/* The initiator may refuse what it reached, too. */
	pair_new(&i, &r);
	i.reject = "expected node 3, reached node 2";
	CHECK(pair_handshake(&i, &r, T0, 0) != 0);
	CHECK(link_state(r.l) == LINK_CLOSED && link_clean(r.l));
	CHECK(contains(link_reason(r.l), "expected node 3"));
	pair_free(&i, &r);
}

/* ---- records ---------------------------------------------------------------- */

/* Three records from i, the middle one altered at `pos`. */
static bool tamper_record(size_t pos)
{
	struct pair_end i, r;
	bool inside;

	established_pair(&i, &r);
	seal_str(&i, TYPE_APP, "first");
	size_t start = i.out.len;
	seal_str(&i, TYPE_APP, "second");
	size_t end = i.out.len;
	seal_str(&i, TYPE_APP, "third");
	inside = start + pos < end;
	if (inside) {
		i.out.data[start + pos] ^= 0x20;
		end_send(&i, &r, T0, 0);
		/* A changed length or type is caught on the header alone: the
		 * receiver never waits for a body length nobody sent. */
		CHECK(link_state(r.l) == LINK_CLOSED && !link_clean(r.l));
		if (pos < LINK_SEALED_HEADER)
			CHECK(contains(link_reason(r.l), "header failed authentication"));
		CHECK(r.nrec == 1);
		check_record(&r, 0, TYPE_APP, "first");
	}
	pair_free(&i, &r);
	return inside;
}

static void test_record_tamper(void)
{
	size_t pos = 0;
	while (tamper_record(pos))
		pos++;
	CHECK(pos == LINK_OVERHEAD + strlen("second"));
}

/* Moves what e has to send into *dst (replacing its contents). */
static void take(struct link_buf *dst, struct pair_end *e)
{
	dst->len = 0;
	CHECK(link_buf_reserve(dst, e->out.len) == 0);
	memcpy(dst->data, e->out.data, e->out.len);
	dst->len = e->out.len;
	e->out.len = 0;
}

/* One record (type, s) sealed by e, in dst instead of on its way. */
static void sealed(struct link_buf *dst, struct pair_end *e, unsigned type, const char *s)
{
	seal_str(e, type, s);
	take(dst, e);
}

static void test_record_replay_reorder_drop(void)
{
	struct pair_end i, r;
	struct link_buf a = { 0 }, b = { 0 }, c = { 0 };

	/* Replay: the same record twice. */
	established_pair(&i, &r);
	sealed(&a, &i, TYPE_APP, "pay 5");
	CHECK(link_buf_reserve(&b, a.len) == 0);
	memcpy(b.data, a.data, b.len = a.len);
	CHECK(link_feed(r.l, a.data, a.len, T0, &r.out) == LINK_ESTABLISHED && r.nrec == 1);
	CHECK(link_feed(r.l, b.data, b.len, T0, &r.out) == LINK_CLOSED);
	CHECK(r.nrec == 1 && contains(link_reason(r.l), "failed authentication"));
	pair_free(&i, &r);

	/* Reorder: the second record first. */
	established_pair(&i, &r);
	sealed(&a, &i, TYPE_APP, "one");
	sealed(&b, &i, TYPE_APP, "two");
	CHECK(link_feed(r.l, b.data, b.len, T0, &r.out) == LINK_CLOSED);
	CHECK(link_feed(r.l, a.data, a.len, T0, &r.out) == LINK_CLOSED);
	CHECK(r.nrec == 0);
	pair_free(&i, &r);

	/* Drop: the middle one of three never arrives. */
	established_pair(&i, &r);
	sealed(&a, &i, TYPE_APP, "one");
	sealed(&b, &i, TYPE_APP, "two");
	sealed(&c, &i, TYPE_APP, "six");
	CHECK(link_feed(r.l, a.data, a.len, T0, &r.out) == LINK_ESTABLISHED);
	CHECK(link_feed(r.l, c.data, c.len, T0, &r.out) == LINK_CLOSED);
	CHECK(r.nrec == 1);
	check_record(&r, 0, TYPE_APP, "one");
	pair_free(&i, &r);

	/* A record sealed for the other direction does not open either. */
	established_pair(&i, &r);
	sealed(&a, &i, TYPE_APP, "mirror");
	CHECK(link_feed(i.l, a.data, a.len, T0, &i.out) == LINK_CLOSED);
	CHECK(i.nrec == 0);
	pair_free(&i, &r);

	link_buf_free(&a);
	link_buf_free(&b);
	link_buf_free(&c);
}

static void test_truncation_and_close(void)
{
	struct pair_end i, r;

	/* Cut in the middle of a record. */
	established_pair(&i, &r);
	seal_str(&i, TYPE_APP, "whole");
	seal_str(&i, TYPE_APP, "cut short");
	i.out.len -= 7;
	end_send(&i, &r, T0, 0);
	CHECK(r.nrec == 1 && link_state(r.l) == LINK_ESTABLISHED);
	CHECK(link_eof(r.l) == LINK_CLOSED && !link_clean(r.l));
	CHECK(contains(link_reason(r.l), "middle of a record"));
	pair_free(&i, &r);

	/* Cut at a record boundary: the missing CLOSE gives it away. */
	established_pair(&i, &r);
	seal_str(&i, TYPE_APP, "whole");
	end_send(&i, &r, T0, 0);
	CHECK(link_eof(r.l) == LINK_CLOSED && !link_clean(r.l));
	CHECK(contains(link_reason(r.l), "without a CLOSE record"));
	pair_free(&i, &r);

	/* A clean close: records before it arrive, then the reason. */
	established_pair(&i, &r);
	seal_str(&i, TYPE_APP, "last words");
	link_close(i.l, "node shutting down", &i.out);
	CHECK(link_state(i.l) == LINK_CLOSED && link_clean(i.l));
	CHECK(link_seal(i.l, &i.out, TYPE_APP, "x", 1) == LINK_ESTATE);
	link_close(i.l, "again", &i.out); /* idempotent */
	end_send(&i, &r, T0, 0);
	CHECK(r.nrec == 1 && link_state(r.l) == LINK_CLOSED && link_clean(r.l));
	CHECK(strcmp(link_reason(r.l), "peer closed the link: node shutting down") == 0);
	CHECK(link_eof(r.l) == LINK_CLOSED && link_clean(r.l));
	/* Bytes after a CLOSE are ignored. */
	uint8_t more[8] = { 0 };
	CHECK(link_feed(r.l, more, sizeof more, T0, &r.out) == LINK_CLOSED && r.nrec == 1);
	pair_free(&i, &r);

	/* Closing during the handshake sends nothing. */
	pair_new(&i, &r);
	CHECK(link_start(i.l, &i.out) == LINK_OK);
	size_t before = i.out.len;
	link_close(i.l, "shutting down", &i.out);
	CHECK(i.out.len == before && link_state(i.l) == LINK_CLOSED);
	pair_free(&i, &r);
}

/* Gives a hand-made sealed header the tag the receiver l expects next, as a
 * peer holding the keys would (the keys are internal: link_internal.h). */
static void sign_header(struct link *l, uint8_t *hdr)
{
	uint8_t in[8 + LINK_HEADER];
	for (int k = 0; k < 8; k++)
		in[k] = (uint8_t)(l->rx_seq >> (8 * k));
	memcpy(in + 8, hdr, LINK_HEADER);
	crypto_shorthash(hdr + LINK_HEADER, in, sizeof in, l->sec->rx_hkey);
}

static void test_oversize(void)
{
	struct pair_end i, r;

	/* Receiver: a header over max_record closes the link on its 13 bytes,
	 * even with a valid header tag (the sender's key is the one used here). */
	established_pair(&i, &r);
	size_t claim = link_max_record(r.l) + LINK_MAC + 1;
	uint8_t hdr[LINK_SEALED_HEADER] = { (uint8_t)(claim >> 24), (uint8_t)(claim >> 16),
		                            (uint8_t)(claim >> 8), (uint8_t)claim, TYPE_APP };
	sign_header(r.l, hdr);
	CHECK(link_feed(r.l, hdr, sizeof hdr, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "outside"));
	pair_free(&i, &r);

	/* ... one too short to hold a tag, too. */
	established_pair(&i, &r);
	uint8_t tiny[LINK_SEALED_HEADER + 3] = { 0, 0, 0, 3, TYPE_APP };
	sign_header(r.l, tiny);
	CHECK(link_feed(r.l, tiny, sizeof tiny, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "outside"));
	pair_free(&i, &r);

	/* A length without its tag (a flipped bit, or a guess) is refused on the
	 * header: nothing is buffered for it. */
	established_pair(&i, &r);
	uint8_t forged[LINK_SEALED_HEADER] = { 0, 0x10, 0, 0, TYPE_APP };
	CHECK(link_feed(r.l, forged, sizeof forged, T0, &r.out) == LINK_CLOSED);
	CHECK(contains(link_reason(r.l), "header failed authentication"));
	pair_free(&i, &r);

	/* Sender: too big fails for that message only. */
	established_pair(&i, &r);
	uint8_t *p;
	CHECK(link_record_begin(i.l, &i.out, link_max_record(i.l) + 1, &p) == LINK_ETOOBIG);
	CHECK(p == NULL && i.out.len == 0 && link_state(i.l) == LINK_ESTABLISHED);
	CHECK(link_record_commit(i.l, &i.out, TYPE_APP, 0) == LINK_ESTATE); /* nothing begun */
	CHECK(link_record_begin(i.l, &i.out, 8, &p) == LINK_OK);
	CHECK(link_record_commit(i.l, &i.out, TYPE_APP, 9) == LINK_ETOOBIG); /* over reservation */
	seal_str(&i, TYPE_APP, "still fine");
	end_send(&i, &r, T0, 0);
	CHECK(r.nrec == 1 && link_state(r.l) == LINK_ESTABLISHED);
	pair_free(&i, &r);
}

/* The receive side with a small max_record. */
static void small_rec(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len)
{
	size_t *count = ud;
	(void)l;
	(void)type;
	(void)data;
	CHECK(len <= 100);
	(*count)++;
}

static void test_max_record_config(void)
{
	size_t count = 0;
	struct pair_end i;
	struct link_buf rout = { 0 };
	struct link_config cfg = { .role = LINK_RESPONDER,
		                   .purpose = LINK_HARBOR_PEER,
		                   .self = { .node_id = 2 },
		                   .cluster_key = key,
		                   .max_record = 100,
		                   .on_record = small_rec,
		                   .ud = &count };
	struct link *r = link_new(&cfg, T0);
	CHECK(r != NULL && link_max_record(r) == 100);
	end_init(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "a", 1, key, T0);
	CHECK(link_start(i.l, &i.out) == LINK_OK && link_start(r, &rout) == LINK_OK);
	for (int k = 0; k < 3; k++) {
		link_feed(r, i.out.data, i.out.len, T0, &rout);
		i.out.len = 0;
		link_feed(i.l, rout.data, rout.len, T0, &i.out);
		rout.len = 0;
	}
	CHECK(link_state(r) == LINK_ESTABLISHED);
	uint8_t buf[101] = { 0 };
	CHECK(link_seal(i.l, &i.out, TYPE_APP, buf, 100) == LINK_OK);
	CHECK(link_feed(r, i.out.data, i.out.len, T0, &rout) == LINK_ESTABLISHED && count == 1);
	i.out.len = 0;
	CHECK(link_seal(i.l, &i.out, TYPE_APP, buf, 101) == LINK_OK); /* sender allows 16 MiB */
	CHECK(link_feed(r, i.out.data, LINK_SEALED_HEADER, T0, &rout) == LINK_CLOSED && count == 1);
	link_free(r);
	link_buf_free(&rout);
	end_free(&i);
}

static void test_byte_at_a_time(void)
{
	struct pair_end i, r;
	char msg[64];

	pair_new(&i, &r);
	CHECK(pair_handshake(&i, &r, T0, 1) == 0);
	for (int k = 0; k < 50; k++) {
		snprintf(msg, sizeof msg, "message %d %.*s", k, k,
		         "abcdefghijklmnopqrstuvwxyz"
		         "abcdefghijklmnopqrstuvwxyz");
		seal_str(&i, TYPE_APP + (unsigned)(k % 3), msg);
		seal_str(&r, TYPE_APP, msg);
	}
	pair_pump(&i, &r, T0, 1);
	CHECK(r.nrec == 50 && i.nrec == 50);
	for (int k = 0; k < 50; k++) {
		snprintf(msg, sizeof msg, "message %d %.*s", k, k,
		         "abcdefghijklmnopqrstuvwxyz"
		         "abcdefghijklmnopqrstuvwxyz");
		check_record(&r, (size_t)k, TYPE_APP + (unsigned)(k % 3), msg);
	}
	link_close(i.l, "bye", &i.out);
	pair_pump(&i, &r, T0, 1);
	CHECK(link_clean(r.l) && contains(link_reason(r.l), "bye"));
	pair_free(&i, &r);
}

static void test_batch(void)
{
	enum { N = 10000 };
	struct pair_end i, r;
	uint8_t buf[512];

	for (int round = 0; round < 2; round++) {
		established_pair(&i, &r);
		/* Many frames into one output buffer, written (here: fed) at once. */
		for (size_t k = 0; k < N; k++) {
			size_t len = (k * 37) % 300;
			uint8_t *p;
			CHECK(link_record_begin(i.l, &i.out, sizeof buf, &p) == LINK_OK);
			for (size_t j = 0; j < len; j++)
				p[j] = (uint8_t)(k + j);
			CHECK(link_record_commit(i.l, &i.out, TYPE_APP + (unsigned)(k % 8), len) == LINK_OK);
		}
		/* Round 0 takes the in-place path; round 1 reads in odd-sized chunks. */
		end_send(&i, &r, T0, round == 0 ? 0 : 777);
		CHECK(r.nrec == N && link_state(r.l) == LINK_ESTABLISHED);
		size_t cur = 0;
		for (size_t k = 0; k < N; k++) {
			unsigned type;
			const uint8_t *d;
			size_t len;
			CHECK(end_next(&r, &cur, &type, &d, &len) == 0);
			CHECK(type == TYPE_APP + k % 8 && len == (k * 37) % 300);
			for (size_t j = 0; j < len; j++)
				CHECK(d[j] == (uint8_t)(k + j));
		}
		pair_free(&i, &r);
	}
}

static void test_buf(void)
{
	struct link_buf b = { 0 };
	CHECK(link_buf_reserve(&b, 10) == 0 && b.cap >= 10);
	memcpy(b.data, "0123456789", 10);
	b.len = 10;
	link_buf_consume(&b, 4);
	CHECK(b.len == 6 && memcmp(b.data, "456789", 6) == 0);
	link_buf_consume(&b, 100);
	CHECK(b.len == 0);
	CHECK(link_buf_reserve(&b, SIZE_MAX) == LINK_ENOMEM);
	link_buf_free(&b);
	CHECK(b.data == NULL && b.cap == 0);
	CHECK(strcmp(link_strerror(LINK_ETOOBIG), "message larger than the link's maximum record") == 0);
}

int main(void)
{
	alarm(120); /* belt and braces; meson has its own timeout */
	CHECK(sodium_init() >= 0);
	randombytes_buf(key, sizeof key);
	randombytes_buf(other_key, sizeof other_key);

	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "handshake_ok", test_handshake_ok },
		{ "wrong_key", test_wrong_key },
		{ "purpose_and_version", test_purpose_and_version },
		{ "bad_config", test_bad_config },
		{ "tamper_handshake", test_tamper_handshake },
		{ "replayed_handshake", test_replayed_handshake },
		{ "preauth_limit", test_preauth_limit },
		{ "hostile_hellos", test_hostile_hellos },
		{ "timeout", test_timeout },
		{ "reject_identity", test_reject_identity },
		{ "record_tamper", test_record_tamper },
		{ "record_replay_reorder_drop", test_record_replay_reorder_drop },
		{ "truncation_and_close", test_truncation_and_close },
		{ "oversize", test_oversize },
		{ "max_record_config", test_max_record_config },
		{ "byte_at_a_time", test_byte_at_a_time },
		{ "batch_10000", test_batch },
		{ "buf", test_buf },
	};
	for (size_t k = 0; k < sizeof tests / sizeof tests[0]; k++) {
		tests[k].fn();
		printf("ok %zu - %s\n", k + 1, tests[k].name);
	}
	return 0;
}
