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
#include "harbor_frame.h"
#include "fuzz_common.h"
#include "fuzz_pb.h"
#include "harbor.pb-c.h"
#include "link.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *pick(uint8_t b)
{
	static const ProtobufCMessageDescriptor *const link_msgs[] = {
		&skiff__link__hello__descriptor,
		&skiff__link__auth__descriptor,
		&skiff__link__close__descriptor,
		&skiff__link__heartbeat__descriptor,
	};
	unsigned n = b % 14;
	if (n < 4)
		return link_msgs[n];
	return harbor_frame_descriptor(SKIFF__HARBOR__FRAME_TYPE__DATA + (n - 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_arena *arena = fuzz_arena();
	if (size == 0)
		return 0;
	const ProtobufCMessageDescriptor *d = pick(data[0]);
	FUZZ_ASSERT(d != NULL);
	fuzz_pb_roundtrip(d, arena, data + 1, size - 1);
	return 0;
}
