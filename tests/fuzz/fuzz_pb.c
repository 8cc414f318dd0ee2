/*
 * fuzz_pb.c — the protobuf round-trip property of fuzz_frames and
 * fuzz_cluster_frames (see fuzz_frames.c for why unknown fields are stripped).
 */
#include "fuzz_pb.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* Drops the unknown fields of m and of every message inside it. */
static void strip_unknown(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	m->n_unknown_fields = 0;
	for (unsigned k = 0; k < d->n_fields; k++) {
		const ProtobufCFieldDescriptor *f = &d->fields[k];
		char *base = (char *)m;
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)(base + f->quantifier_offset);
			ProtobufCMessage **v = *(ProtobufCMessage ***)(base + f->offset);
			for (size_t j = 0; j < n; j++)
				strip_unknown(v[j]);
		} else {
			ProtobufCMessage *sub = *(ProtobufCMessage **)(base + f->offset);
			if (sub != NULL)
				strip_unknown(sub);
		}
	}
}

void fuzz_pb_roundtrip(const ProtobufCMessageDescriptor *d, struct pb_arena *arena, const uint8_t *data,
                       size_t size)
{
	ProtobufCMessage *m = frame_decode(d, arena, data, size);
	if (m != NULL) {
		strip_unknown(m);
		size_t n1 = protobuf_c_message_get_packed_size(m);
		uint8_t *b1 = malloc(n1 + 1), *b2 = NULL;
		FUZZ_ASSERT(b1 != NULL);
		FUZZ_ASSERT(protobuf_c_message_pack(m, b1) == n1);
		ProtobufCMessage *m2 = frame_decode(d, arena, b1, n1);
		FUZZ_ASSERT(m2 != NULL);
		size_t n2 = protobuf_c_message_get_packed_size(m2);
		FUZZ_ASSERT(n2 == n1);
		b2 = malloc(n2 + 1);
		FUZZ_ASSERT(b2 != NULL);
		FUZZ_ASSERT(protobuf_c_message_pack(m2, b2) == n2);
		FUZZ_ASSERT(memcmp(b1, b2, n1) == 0);
		free(b1);
		free(b2);
	}
	pb_arena_reset(arena);
}

struct pb_arena *fuzz_arena(void)
{
	static struct pb_arena arena;
	static int ready;
	if (!ready) {
		pb_arena_init(&arena, NULL, 0);
		ready = 1;
	}
	return &arena;
}
