/*
 * gen_corpus.c — writes the seed corpus of the fuzz targets (not a test).
 *     gen_corpus DIR      (DIR/<target>/ must exist; normally tests/fuzz/corpus)
 * Handshake and record seeds are valid conversations with the deterministic
 * links of fuzz_common.c; each is checked against a fresh link before it is
 * written.  Rerun after any change to the handshake, the key schedule or
 * fuzz_common.c, and commit the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "fuzz_common.h"
#include "harbor.pb-c.h"
#include "link.pb-c.h"

static const char *outdir;

static void die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

static void count_record(void *ud, struct link *l, unsigned type, uint8_t *p, size_t len)
{
	(void)l;
	(void)type;
	(void)p;
	(void)len;
	(*(size_t *)ud)++;
}

static void put(const char *target, const char *name, uint8_t chunk, const struct link_buf *parts,
                size_t nparts)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		die(path);
	fputc(chunk, f);
	for (size_t k = 0; k < nparts; k++)
		fwrite(parts[k].data, 1, parts[k].len, f);
	fclose(f);
}

static void append(struct link_buf *dst, const struct link_buf *src)
{
	if (link_buf_reserve(dst, src->len) != 0)
		die("memory");
	memcpy(dst->data + dst->len, src->data, src->len);
	dst->len += src->len;
}

/* Feeds bytes to l (a copy: the link overwrites its input). */
static void feed(struct link *l, const struct link_buf *in, struct link_buf *out)
{
	struct link_buf copy = { 0 };
	append(&copy, in);
	link_feed(l, copy.data, copy.len, 1, out);
	link_buf_free(&copy);
}

/* Some sealed traffic from `l`, ending with a CLOSE when `close` is set. */
static void traffic(struct link *l, struct link_buf *out, int close)
{
	uint8_t big[300];
	Skiff__Link__Heartbeat hb = SKIFF__LINK__HEARTBEAT__INIT;
	Skiff__Harbor__Data d = SKIFF__HARBOR__DATA__INIT;

	memset(big, 'x', sizeof big);
	hb.seq = 1;
	hb.time_ms = 1000;
	d.source = 0x01000001;
	d.destination_case = SKIFF__HARBOR__DATA__DESTINATION_HANDLE;
	d.handle = 0x02000005;
	d.type = 10;
	d.session = 3;
	d.payload.data = big;
	d.payload.len = 40;
	if (frame_send(l, out, LINK_TYPE_HEARTBEAT, &hb.base) != LINK_OK ||
	    frame_send(l, out, SKIFF__HARBOR__FRAME_TYPE__DATA, &d.base) != LINK_OK ||
	    link_seal(l, out, 17, big, sizeof big) != LINK_OK || link_seal(l, out, 200, "", 0) != LINK_OK)
		die("seal");
	if (close)
		link_close(l, "generator done", out);
}

/* Seed names get the mode's tag in front ("" for the shared key). */
static const char *tagged(const char *tag, const char *name)
{
	static char buf[128];
	snprintf(buf, sizeof buf, "%s%s", tag, name);
	return buf;
}

/* The buffers of one seed run: each side's flights, the traffic records and
 * output nobody reads. */
struct flights {
	struct link_buf i1, r1, i2, rec, scratch;
};

static void flights_free(struct flights *f)
{
	link_buf_free(&f->i1);
	link_buf_free(&f->r1);
	link_buf_free(&f->i2);
	link_buf_free(&f->rec);
	link_buf_free(&f->scratch);
}

/* A fresh deterministic `role` link on stream 0 must take the seed's bytes
 * (the n buffers of `flight`, in order) cleanly to the end, delivering its
 * four records; else the generator dies with `what`. */
static void check_replay(enum link_role role, unsigned mode, struct link_buf **flight, size_t nflight,
                         const char *what)
{
	struct link_buf whole = { 0 }, out = { 0 };
	size_t n = 0;
	for (size_t k = 0; k < nflight; k++)
		append(&whole, flight[k]);
	fuzz_rng_stream(0);
	struct link *check = fuzz_link_mode(role, mode, count_record, &n);
	if (check == NULL || link_start(check, &out) != LINK_OK)
		die("check");
	feed(check, &whole, &out);
	if (!link_clean(check) || n != 4)
		die(what);
	link_free(check);
	link_buf_free(&whole);
	link_buf_free(&out);
}

/* Handshake + traffic where the responder is on stream 0 (the responder and
 * record targets).  Initiator flights go to i1, i2; its traffic to rec.  The
 * record target's seeds are written in the shared-key mode only. */
static void responder_side(unsigned mode, const char *tag)
{
	struct flights f = { 0 };
	size_t n = 0;

	fuzz_rng_stream(1);
	struct link *i = fuzz_link_mode(LINK_INITIATOR, mode, count_record, &n);
	if (i == NULL || link_start(i, &f.i1) != LINK_OK)
		die("initiator");
	fuzz_rng_stream(0);
	struct link *r = fuzz_link_mode(LINK_RESPONDER, mode, count_record, &n);
	if (r == NULL || link_start(r, &f.r1) != LINK_OK)
		die("responder");
	feed(r, &f.i1, &f.r1);
	feed(i, &f.r1, &f.i2);
	if (link_state(i) != LINK_ESTABLISHED)
		die("initiator not established");
	traffic(i, &f.rec, 0);
	if (mode == 0)
		put("record", "traffic-no-close", 0, &f.rec, 1);
	link_close(i, "generator done", &f.rec);

	struct link_buf all[3] = { f.i1, f.i2, f.rec };
	put("handshake_responder", tagged(tag, "full-at-once"), (uint8_t)mode, all, 3);
	put("handshake_responder", tagged(tag, "full-3-byte-reads"), (uint8_t)(mode | 3), all, 3);
	put("handshake_responder", tagged(tag, "hello-auth"), (uint8_t)mode, all, 2);
	put("handshake_responder", tagged(tag, "hello-only"), (uint8_t)mode, all, 1);
	if (mode == 0) {
		put("record", "traffic-at-once", 0, &f.rec, 1);
		put("record", "traffic-7-byte-reads", 7, &f.rec, 1);
	}

	/* Check: a fresh deterministic responder accepts the whole flight. */
	struct link_buf *flight[] = { &f.i1, &f.i2, &f.rec };
	check_replay(LINK_RESPONDER, mode, flight, 3, "responder seed does not replay");
	link_free(i);
	link_free(r);
	flights_free(&f);
}

/* The initiator on stream 0 (the initiator target); responder flights saved. */
static void initiator_side(unsigned mode, const char *tag)
{
	struct flights f = { 0 };
	size_t n = 0;

	fuzz_rng_stream(0);
	struct link *i = fuzz_link_mode(LINK_INITIATOR, mode, count_record, &n);
	if (i == NULL || link_start(i, &f.i1) != LINK_OK)
		die("initiator");
	fuzz_rng_stream(1);
	struct link *r = fuzz_link_mode(LINK_RESPONDER, mode, count_record, &n);
	if (r == NULL || link_start(r, &f.scratch) != LINK_OK)
		die("responder");
	feed(r, &f.i1, &f.r1);
	feed(i, &f.r1, &f.i2);
	feed(r, &f.i2, &f.scratch);
	if (link_state(r) != LINK_ESTABLISHED)
		die("responder not established");
	traffic(r, &f.rec, 1);

	struct link_buf all[2] = { f.r1, f.rec };
	put("handshake_initiator", tagged(tag, "full-at-once"), (uint8_t)mode, all, 2);
	put("handshake_initiator", tagged(tag, "full-5-byte-reads"), (uint8_t)(mode | 5), all, 2);
	put("handshake_initiator", tagged(tag, "hello-auth"), (uint8_t)mode, all, 1);

	struct link_buf *flight[] = { &f.r1, &f.rec };
	check_replay(LINK_INITIATOR, mode, flight, 2, "initiator seed does not replay");
	link_free(i);
	link_free(r);
	flights_free(&f);
}

/* Credential mode, hostile peers on stream 1: each claims the id the target
 * expects but presents a credential that must be refused (another id, another
 * cluster, expired, a certificate without its secret).  The target must close
 * on the peer's AUTH; the seeds put mutations right at those checks. */
static void hostile_seeds(unsigned mode, const char *tag)
{
	static const struct {
		const char *name;
		uint32_t id;
		int ca, stolen;
	} bad[] = {
		{ "cred-other-id", 3, 0, 0 },
		{ "cred-other-cluster", 0, 1, 0 },
		{ "cred-expired", 9, 0, 0 },
		{ "cred-stolen", 0, 0, 1 },
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		for (int target_is_responder = 0; target_is_responder < 2; target_is_responder++) {
			enum link_role peer_role = target_is_responder ? LINK_INITIATOR : LINK_RESPONDER;
			uint32_t claim = target_is_responder ? 1 : 2;
			struct link_credential cred;
			struct link_buf t1 = { 0 }, p1 = { 0 }, t2 = { 0 };
			size_t n = 0;
			fuzz_credential(bad[k].id ? bad[k].id : claim, bad[k].ca, bad[k].stolen, &cred);
			fuzz_rng_stream(0);
			struct link *t = fuzz_link_mode(target_is_responder ? LINK_RESPONDER : LINK_INITIATOR,
			                                mode, count_record, &n);
			fuzz_rng_stream(1);
			struct link *p = fuzz_link_cred(peer_role, mode, claim, &cred, count_record, &n);
			if (t == NULL || p == NULL || link_start(t, &t1) != LINK_OK ||
			    link_start(p, &p1) != LINK_OK)
				die("hostile links");
			if (target_is_responder) {
				/* p1: HELLO_I; the target answers; p then sends its AUTH */
				feed(t, &p1, &t2);
				struct link_buf p2 = { 0 };
				feed(p, &t2, &p2);
				struct link_buf all[2] = { p1, p2 };
				feed(t, &p2, &t1);
				if (link_state(t) != LINK_CLOSED)
					die("responder took a bad credential");
				put("handshake_responder", tagged(tag, bad[k].name), (uint8_t)mode, all, 2);
				link_buf_free(&p2);
			} else {
				/* t1: HELLO_I; p answers HELLO_R AUTH_R with the bad credential */
				feed(p, &t1, &p1);
				struct link_buf copy = { 0 };
				append(&copy, &p1);
				feed(t, &p1, &t2);
				if (link_state(t) != LINK_CLOSED)
					die("initiator took a bad credential");
				put("handshake_initiator", tagged(tag, bad[k].name), (uint8_t)mode, &copy, 1);
				link_buf_free(&copy);
			}
			link_free(t);
			link_free(p);
			link_buf_free(&t1);
			link_buf_free(&p1);
			link_buf_free(&t2);
			sodium_memzero(&cred, sizeof cred);
		}
	}
}

static void frame_seed(unsigned pick, const char *name, const ProtobufCMessage *m)
{
	struct link_buf b = { 0 };
	if (link_buf_reserve(&b, protobuf_c_message_get_packed_size(m)) != 0)
		die("memory");
	b.len = protobuf_c_message_pack(m, b.data);
	put("frames", name, (uint8_t)pick, &b, 1);
	link_buf_free(&b);
}

static void frames(void)
{
	uint8_t k32[32] = { 1, 2, 3 };
	Skiff__Link__Hello h = SKIFF__LINK__HELLO__INIT;
	Skiff__Link__Auth a = SKIFF__LINK__AUTH__INIT;
	Skiff__Link__Close c = SKIFF__LINK__CLOSE__INIT;
	Skiff__Link__Heartbeat hb = SKIFF__LINK__HEARTBEAT__INIT;
	Skiff__Harbor__Data d = SKIFF__HARBOR__DATA__INIT;
	Skiff__Harbor__CallFailed cf = SKIFF__HARBOR__CALL_FAILED__INIT;
	Skiff__Harbor__NodeInfo ni = SKIFF__HARBOR__NODE_INFO__INIT;
	Skiff__Harbor__NodeInfo *nis[2] = { &ni, &ni };
	Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameBinding *nbs[1] = { &nb };
	Skiff__Harbor__NodeAnnounce an = SKIFF__HARBOR__NODE_ANNOUNCE__INIT;
	Skiff__Harbor__NodeTable nt = SKIFF__HARBOR__NODE_TABLE__INIT;
	Skiff__Harbor__NodeJoin nj = SKIFF__HARBOR__NODE_JOIN__INIT;
	Skiff__Harbor__NodeLeave nl = SKIFF__HARBOR__NODE_LEAVE__INIT;
	Skiff__Harbor__NameRegister nr = SKIFF__HARBOR__NAME_REGISTER__INIT;
	Skiff__Harbor__NameQuery nq = SKIFF__HARBOR__NAME_QUERY__INIT;
	Skiff__Harbor__NameAnswer na = SKIFF__HARBOR__NAME_ANSWER__INIT;
	Skiff__Harbor__NameWithdraw nw = SKIFF__HARBOR__NAME_WITHDRAW__INIT;

	h.version = 1;
	h.purpose = SKIFF__LINK__PURPOSE__HARBOR_PEER;
	h.node_id = 3;
	h.node_name = "node3";
	h.incarnation = 99;
	h.ephemeral.data = k32;
	h.ephemeral.len = 32;
	h.nonce.data = k32;
	h.nonce.len = 32;
	a.mac.data = k32;
	a.mac.len = 32;
	c.reason = "bye";
	hb.seq = 5;
	hb.time_ms = 77;
	hb.reply = 1;
	d.source = 0x01000002;
	d.destination_case = SKIFF__HARBOR__DATA__DESTINATION_NAME;
	d.name = "DATACENTER";
	d.type = 10;
	d.session = 12;
	d.payload.data = k32;
	d.payload.len = 20;
	d.dest_incarnation = 4;
	cf.source = 1;
	cf.destination = 2;
	cf.session = 3;
	cf.reason = "gone";
	ni.id = 4;
	ni.name = "n4";
	ni.incarnation = 8;
	ni.address = "127.0.0.1:2526";
	nb.name = "SVC";
	nb.handle = 0x0400000a;
	an.address = "127.0.0.1:2527";
	an.n_names = 1;
	an.names = nbs;
	nt.n_nodes = 2;
	nt.nodes = nis;
	nt.n_names = 1;
	nt.names = nbs;
	nj.node = &ni;
	nl.id = 4;
	nl.incarnation = 8;
	nl.reason = "timeout";
	nr.binding = &nb;
	nq.name = "SVC";
	na.binding = &nb;
	na.found = 1;
	nw.binding = &nb;

	const ProtobufCMessage *msgs[14] = { &h.base,  &a.base,  &c.base,  &hb.base, &d.base,
		                             &cf.base, &an.base, &nt.base, &nj.base, &nl.base,
		                             &nr.base, &nq.base, &na.base, &nw.base };
	for (unsigned k = 0; k < 14; k++) {
		char name[32];
		snprintf(name, sizeof name, "msg-%02u", k);
		frame_seed(k, name, msgs[k]);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: gen_corpus CORPUS_DIR");
	outdir = argv[1];
	fuzz_init();
	responder_side(0, "");
	initiator_side(0, "");
	responder_side(FUZZ_CRED, "cred-key-");
	initiator_side(FUZZ_CRED, "cred-key-");
	responder_side(FUZZ_CRED | FUZZ_NOKEY, "cred-nokey-");
	initiator_side(FUZZ_CRED | FUZZ_NOKEY, "cred-nokey-");
	hostile_seeds(FUZZ_CRED, "bad-");
	hostile_seeds(FUZZ_CRED | FUZZ_NOKEY, "bad-nokey-");
	frames();
	printf("corpus written to %s\n", outdir);
	return 0;
}
