/*
 * frame.c — protobuf-c messages in and out of link records (see frame.h).
 */
#include "frame.h"

#include "link.pb-c.h"

int frame_send(struct link *l, struct link_buf *out, unsigned type, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *p;
	int rc = link_record_begin(l, out, n, &p);
	if (rc != LINK_OK)
		return rc;
	return link_record_commit(l, out, type, protobuf_c_message_pack(msg, p));
}

ProtobufCMessage *frame_decode(const ProtobufCMessageDescriptor *d, struct pb_arena *a, const uint8_t *data,
                               size_t len)
{
	return protobuf_c_message_unpack(d, &a->allocator, len, data);
}
