/*
 * fuzz_frames.c — protobuf-c decoding of every frame type.  The first byte
 * picks the message (every harbor.proto frame, the link's Hello, Auth, Close,
 * Heartbeat), the rest is its encoding.  Whatever decodes, stripped of unknown
 * fields, must re-encode to bytes that decode and re-encode to the same bytes.
 *
 * Why strip: protobuf-c 1.4.1 accepts some unknown fields it cannot write back
 * in a form it accepts again (the fuzzer found a field number 0 that way).
 * Skiff never re-sends a received message with its unknown fields, and this
 * is the property that guarantees that is safe.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz_common.h"
#include "harbor.pb-c.h"
#include "link.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *pick(uint8_t b)
{
	static const ProtobufCMessageDescriptor *const link_msgs[] = {
		&skiff__link__hello__descriptor, &skiff__link__auth__descriptor,
		&skiff__link__close__descriptor, &skiff__link__heartbeat__descriptor,
	};
	unsigned n = b % 14;
	if (n < 4)
		return link_msgs[n];
	return harbor_frame_descriptor(SKIFF__HARBOR__FRAME_TYPE__DATA + (n - 4));
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pb_arena arena;
	static int ready;

	if (!ready) {
		pb_arena_init(&arena, NULL, 0);
		ready = 1;
	}
	if (size == 0)
		return 0;
	const ProtobufCMessageDescriptor *d = pick(data[0]);
	FUZZ_ASSERT(d != NULL);
	ProtobufCMessage *m = frame_decode(d, &arena, data + 1, size - 1);
	if (m != NULL) {
		strip_unknown(m);
		size_t n1 = protobuf_c_message_get_packed_size(m);
		uint8_t *b1 = malloc(n1 + 1), *b2 = NULL;
		FUZZ_ASSERT(b1 != NULL);
		FUZZ_ASSERT(protobuf_c_message_pack(m, b1) == n1);
		ProtobufCMessage *m2 = frame_decode(d, &arena, b1, n1);
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
	pb_arena_reset(&arena);
	return 0;
}
