/*
 * fuzz_cluster_frames.c — protobuf-c decoding of every cluster frame type
 * (proto/cluster.proto: Request, Response, Part, Ack), exactly as the cluster
 * service's on_record decodes a record's plaintext (frame_decode into an
 * arena).  The first byte picks the message, the rest is its encoding; the
 * round-trip property is fuzz_pb_roundtrip's.  For what decodes, the fields
 * the service reads next are read here too (the oneof destination's name,
 * the trace and error strings, the byte fields), so a decoder that returned a
 * dangling or unterminated pointer shows under ASan.
 */
#include <string.h>

#include "cluster.pb-c.h"
#include "frame.h"
#include "fuzz_common.h"
#include "fuzz_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const cluster_msgs[] = {
	&skiff__cluster__request__descriptor,
	&skiff__cluster__response__descriptor,
	&skiff__cluster__part__descriptor,
	&skiff__cluster__ack__descriptor,
};

static volatile size_t sink;

static void touch(const ProtobufCMessage *m)
{
	if (m->descriptor == &skiff__cluster__request__descriptor) {
		const Skiff__Cluster__Request *r = (const void *)m;
		if (r->destination_case == SKIFF__CLUSTER__REQUEST__DESTINATION_NAME)
			sink += strlen(r->name);
		sink += strlen(r->trace);
		if (r->payload.len)
			sink += r->payload.data[r->payload.len - 1];
	} else if (m->descriptor == &skiff__cluster__response__descriptor) {
		const Skiff__Cluster__Response *r = (const void *)m;
		sink += strlen(r->error);
		if (r->payload.len)
			sink += r->payload.data[r->payload.len - 1];
	} else if (m->descriptor == &skiff__cluster__part__descriptor) {
		const Skiff__Cluster__Part *p = (const void *)m;
		if (p->data.len)
			sink += p->data.data[p->data.len - 1];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_arena *arena = fuzz_arena();
	if (size == 0)
		return 0;
	const ProtobufCMessageDescriptor *d = cluster_msgs[data[0] % 4];
	ProtobufCMessage *m = frame_decode(d, arena, data + 1, size - 1);
	if (m != NULL)
		touch(m);
	pb_arena_reset(arena);
	fuzz_pb_roundtrip(d, arena, data + 1, size - 1);
	return 0;
}
