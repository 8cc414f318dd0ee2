/*
 * frame_test.c — harbor.proto frames through a real link: every frame type
 * packs, seals, opens and decodes back; arena decoding; payload stealing;
 * unknown fields; malformed frames; size limits.
 */
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "harbor_frame.h"
#include "harbor.pb-c.h"
#include "link.pb-c.h"
#include "linkpair.h"

#define T0 5000u

static uint8_t key[LINK_KEY_BYTES];
static struct pb_arena arena;

/* Decodes the n-th record r received as the frame type it carries. */
static ProtobufCMessage *nth(const struct pair_end *r, size_t n, unsigned want_type)
{
	size_t len = 0;
	const uint8_t *d = NULL;
	unsigned type = end_nth(r, n, &d, &len);
	CHECK(type == want_type);
	const ProtobufCMessageDescriptor *desc = harbor_frame_descriptor(type);
	CHECK(desc != NULL);
	ProtobufCMessage *m = frame_decode(desc, &arena, d, len);
	CHECK(m != NULL && m->descriptor == desc);
	return m;
}

static void test_every_frame(void)
{
	struct pair_end i, r;
	Skiff__Harbor__Data data = SKIFF__HARBOR__DATA__INIT;
	Skiff__Harbor__Data byname = SKIFF__HARBOR__DATA__INIT;
	Skiff__Harbor__CallFailed cf = SKIFF__HARBOR__CALL_FAILED__INIT;
	Skiff__Harbor__NodeInfo n1 = SKIFF__HARBOR__NODE_INFO__INIT, n2 = SKIFF__HARBOR__NODE_INFO__INIT;
	Skiff__Harbor__NodeInfo *nodes[2] = { &n1, &n2 };
	Skiff__Harbor__NameBinding b1 = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameBinding *names[1] = { &b1 };
	Skiff__Harbor__NodeAnnounce ann = SKIFF__HARBOR__NODE_ANNOUNCE__INIT;
	Skiff__Harbor__NodeTable table = SKIFF__HARBOR__NODE_TABLE__INIT;
	Skiff__Harbor__NodeJoin join = SKIFF__HARBOR__NODE_JOIN__INIT;
	Skiff__Harbor__NodeLeave leave = SKIFF__HARBOR__NODE_LEAVE__INIT;
	Skiff__Harbor__NameRegister reg = SKIFF__HARBOR__NAME_REGISTER__INIT;
	Skiff__Harbor__NameQuery q = SKIFF__HARBOR__NAME_QUERY__INIT;
	Skiff__Harbor__NameAnswer ans = SKIFF__HARBOR__NAME_ANSWER__INIT;
	Skiff__Harbor__NameWithdraw wd = SKIFF__HARBOR__NAME_WITHDRAW__INIT;
	Skiff__Harbor__NodeLeaving leaving = SKIFF__HARBOR__NODE_LEAVING__INIT;
	Skiff__Link__Heartbeat hb = SKIFF__LINK__HEARTBEAT__INIT;

	end_init(&i, LINK_INITIATOR, LINK_HARBOR_MASTER, 3, "n3", 33, key, T0);
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_MASTER, 0, "master", 1, key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) == 0);

	data.source = 0x03000010;
	data.destination_case = SKIFF__HARBOR__DATA__DESTINATION_HANDLE;
	data.handle = 0x05000021;
	data.type = 10;
	data.session = 77;
	data.payload.data = (uint8_t *)"hello payload";
	data.payload.len = 13;
	data.dest_incarnation = 0x123456789abcdefULL;
	byname.source = 0x03000011;
	byname.destination_case = SKIFF__HARBOR__DATA__DESTINATION_NAME;
	byname.name = "DATACENTER";
	byname.type = 10;
	cf.source = 0x05000021;
	cf.destination = 0x03000010;
	cf.session = 77;
	cf.reason = "node 5 is down";
	n1.id = 3;
	n1.name = "n3";
	n1.incarnation = 33;
	n1.address = "10.0.0.3:2526";
	n2.id = 5;
	n2.incarnation = 55;
	n2.address = "10.0.0.5:2526";
	b1.name = "DATACENTER";
	b1.handle = 0x0100000b;
	ann.address = "10.0.0.3:2526";
	ann.n_names = 1;
	ann.names = names;
	table.n_nodes = 2;
	table.nodes = nodes;
	table.n_names = 1;
	table.names = names;
	join.node = &n2;
	leave.id = 5;
	leave.incarnation = 55;
	leave.reason = "heartbeat timeout";
	reg.binding = &b1;
	q.name = "DATACENTER";
	ans.binding = &b1;
	ans.found = 1;
	wd.binding = &b1;
	leaving.id = 3;
	leaving.incarnation = 33;
	leaving.reason = "SIGTERM";
	hb.seq = 9;
	hb.time_ms = 123456;
	hb.reply = 1;

	struct {
		unsigned type;
		ProtobufCMessage *m;
	} frames[] = {
		{ SKIFF__HARBOR__FRAME_TYPE__DATA, &data.base },
		{ SKIFF__HARBOR__FRAME_TYPE__DATA, &byname.base },
		{ SKIFF__HARBOR__FRAME_TYPE__CALL_FAILED, &cf.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NODE_ANNOUNCE, &ann.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE, &table.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NODE_JOIN, &join.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVE, &leave.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NAME_REGISTER, &reg.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NAME_QUERY, &q.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER, &ans.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW, &wd.base },
		{ SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING, &leaving.base },
		{ SKIFF__LINK__RECORD_TYPE__HEARTBEAT, &hb.base },
	};
	const size_t nframes = sizeof frames / sizeof frames[0];
	for (size_t k = 0; k < nframes; k++)
		CHECK(frame_send(i.l, &i.out, frames[k].type, frames[k].m) == LINK_OK);
	end_send(&i, &r, T0, 0);
	CHECK(r.nrec == nframes);

	/* Every frame re-packs to the bytes that were sent. */
	for (size_t k = 0; k < nframes; k++) {
		ProtobufCMessage *m = nth(&r, k, frames[k].type);
		uint8_t a[512], b[512];
		size_t na = protobuf_c_message_pack(frames[k].m, a);
		size_t nb = protobuf_c_message_pack(m, b);
		CHECK(na == nb && memcmp(a, b, na) == 0);
		pb_arena_reset(&arena);
	}

	/* And a few fields by hand. */
	Skiff__Harbor__Data *d = (Skiff__Harbor__Data *)nth(&r, 0, SKIFF__HARBOR__FRAME_TYPE__DATA);
	CHECK(d->source == 0x03000010 && d->handle == 0x05000021 && d->session == 77);
	CHECK(d->destination_case == SKIFF__HARBOR__DATA__DESTINATION_HANDLE);
	CHECK(d->payload.len == 13 && memcmp(d->payload.data, "hello payload", 13) == 0);
	CHECK(d->dest_incarnation == 0x123456789abcdefULL);
	CHECK(pb_arena_steal(&arena, d->payload.data) == NULL); /* small: lives in the arena */
	pb_arena_reset(&arena);
	d = (Skiff__Harbor__Data *)nth(&r, 1, SKIFF__HARBOR__FRAME_TYPE__DATA);
	CHECK(d->destination_case == SKIFF__HARBOR__DATA__DESTINATION_NAME);
	CHECK(strcmp(d->name, "DATACENTER") == 0 && d->payload.len == 0);
	pb_arena_reset(&arena);
	Skiff__Harbor__NodeTable *t =
		(Skiff__Harbor__NodeTable *)nth(&r, 4, SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE);
	CHECK(t->n_nodes == 2 && t->nodes[1]->id == 5 && strcmp(t->nodes[0]->address, "10.0.0.3:2526") == 0);
	CHECK(t->n_names == 1 && t->names[0]->handle == 0x0100000b);
	pb_arena_reset(&arena);
	end_free(&i);
	end_free(&r);
}

static void test_big_payload_and_limits(void)
{
	struct pair_end i, r;
	Skiff__Harbor__Data data = SKIFF__HARBOR__DATA__INIT;
	size_t big = 100000;
	uint8_t *payload = malloc(big);

	CHECK(payload != NULL);
	for (size_t k = 0; k < big; k++)
		payload[k] = (uint8_t)(k * 7);
	end_init(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "a", 1, key, T0);
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "b", 2, key, T0);
	CHECK(pair_handshake(&i, &r, T0, 0) == 0);
	data.source = 1;
	data.destination_case = SKIFF__HARBOR__DATA__DESTINATION_HANDLE;
	data.handle = 2;
	data.payload.data = payload;
	data.payload.len = big;
	CHECK(frame_send(i.l, &i.out, SKIFF__HARBOR__FRAME_TYPE__DATA, &data.base) == LINK_OK);
	end_send(&i, &r, T0, 4096);
	Skiff__Harbor__Data *d = (Skiff__Harbor__Data *)nth(&r, 0, SKIFF__HARBOR__FRAME_TYPE__DATA);
	CHECK(d->payload.len == big && memcmp(d->payload.data, payload, big) == 0);
	/* A big payload has its own block: the receiver takes it instead of copying. */
	uint8_t *mine = pb_arena_steal(&arena, d->payload.data);
	CHECK(mine == d->payload.data);
	pb_arena_reset(&arena);
	CHECK(memcmp(mine, payload, big) == 0); /* still valid after the reset */
	free(mine);

	/* Over the link's limit: the sender gets an error, the link stays up. */
	size_t over = link_max_record(i.l) + 1;
	uint8_t *huge = calloc(1, over);
	CHECK(huge != NULL);
	data.payload.data = huge;
	data.payload.len = over;
	size_t before = i.out.len;
	CHECK(frame_send(i.l, &i.out, SKIFF__HARBOR__FRAME_TYPE__DATA, &data.base) == LINK_ETOOBIG);
	CHECK(i.out.len == before && link_state(i.l) == LINK_ESTABLISHED);
	free(huge);
	free(payload);
	end_free(&i);
	end_free(&r);
}

static void test_decoding_edges(void)
{
	uint8_t buf[256];
	Skiff__Harbor__NameQuery q = SKIFF__HARBOR__NAME_QUERY__INIT;
	ProtobufCMessageUnknownField uf = {
		.tag = 900, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = (uint8_t[]){ 0x05 }
	};

	CHECK(harbor_frame_descriptor(0) == NULL && harbor_frame_descriptor(1) == NULL);
	CHECK(harbor_frame_descriptor(3) == NULL && harbor_frame_descriptor(15) == NULL);
	CHECK(harbor_frame_descriptor(27) == NULL && harbor_frame_descriptor(255) == NULL);
	CHECK(harbor_frame_descriptor(26) == &skiff__harbor__node_leaving__descriptor);
	CHECK(harbor_frame_descriptor(4) == &skiff__link__heartbeat__descriptor);

	/* A newer peer's unknown field is skipped. */
	q.name = "x";
	q.base.n_unknown_fields = 1;
	q.base.unknown_fields = &uf;
	size_t n = protobuf_c_message_pack(&q.base, buf);
	Skiff__Harbor__NameQuery *got = (Skiff__Harbor__NameQuery *)frame_decode(
		&skiff__harbor__name_query__descriptor, &arena, buf, n);
	CHECK(got != NULL && strcmp(got->name, "x") == 0);
	pb_arena_reset(&arena);

	/* Truncated and garbage bytes do not decode. */
	CHECK(frame_decode(&skiff__harbor__name_query__descriptor, &arena, buf, n - 1) == NULL);
	pb_arena_reset(&arena);
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
	CHECK(frame_decode(&skiff__harbor__name_query__descriptor, &arena, junk, sizeof junk) == NULL);
	pb_arena_reset(&arena);

	/* A fixed arena too small for the message fails cleanly. */
	struct pb_arena tiny;
	uint8_t mem[24];
	pb_arena_init(&tiny, mem, sizeof mem);
	CHECK(frame_decode(&skiff__harbor__name_query__descriptor, &tiny, buf, n) == NULL);
	pb_arena_finish(&tiny);

	/* Steady state: decoding the same frame again and again keeps the arena small
	 * and owning nothing between frames. */
	Skiff__Harbor__NodeTable t = SKIFF__HARBOR__NODE_TABLE__INIT;
	Skiff__Harbor__NodeInfo ni = SKIFF__HARBOR__NODE_INFO__INIT;
	Skiff__Harbor__NodeInfo *nis[8] = { &ni, &ni, &ni, &ni, &ni, &ni, &ni, &ni };
	ni.id = 9;
	ni.address = "some.host.example:2526";
	t.n_nodes = 8;
	t.nodes = nis;
	n = protobuf_c_message_pack(&t.base, buf);
	for (int k = 0; k < 1000; k++) {
		Skiff__Harbor__NodeTable *tt = (Skiff__Harbor__NodeTable *)frame_decode(
			&skiff__harbor__node_table__descriptor, &arena, buf, n);
		CHECK(tt != NULL && tt->n_nodes == 8 && tt->nodes[7]->id == 9);
		pb_arena_reset(&arena);
		CHECK(arena.nbig == 0 && arena.cap <= 64 * 1024);
	}
}

int main(void)
{
	alarm(60);
	CHECK(sodium_init() >= 0);
	randombytes_buf(key, sizeof key);
	pb_arena_init(&arena, NULL, 0);
	test_every_frame();
	printf("ok 1 - every_frame\n");
	test_big_payload_and_limits();
	printf("ok 2 - big_payload_and_limits\n");
	test_decoding_edges();
	printf("ok 3 - decoding_edges\n");
	pb_arena_finish(&arena);
	return 0;
}
