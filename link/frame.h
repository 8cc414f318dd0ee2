/*
 * frame.h — protobuf-c messages as sealed link records.
 *
 * Sending packs a message straight into the link's output buffer and seals it
 * there: no temporary buffer, no allocation once the output buffer has grown.
 * Receiving decodes into a pb_arena, so steady-state decoding does not call
 * malloc either; a large Data payload lands in its own block that the caller
 * may take over with pb_arena_steal().
 *
 * Typical receive callback:
 *     const ProtobufCMessageDescriptor *d = my_protocol_descriptor(type);
 *     ProtobufCMessage *m = d ? frame_decode(d, &arena, data, len) : NULL;
 *     if (m == NULL) { link_close(l, "malformed frame", out); return; }
 *     ... use m ...; pb_arena_reset(&arena);
 */
#ifndef SKIFF_FRAME_H
#define SKIFF_FRAME_H

#include <protobuf-c/protobuf-c.h>

#include "link.h"
#include "pbarena.h"

/* Packs msg into one sealed record of `type`.  LINK_ETOOBIG when the packed
 * message exceeds the link's max_record (the caller reports it to its sender). */
int frame_send(struct link *l, struct link_buf *out, unsigned type, const ProtobufCMessage *msg);

/* Unpacks a record's plaintext into the arena; NULL if it does not decode.
 * Unknown fields are ignored. */
ProtobufCMessage *frame_decode(const ProtobufCMessageDescriptor *d, struct pb_arena *a, const uint8_t *data,
                               size_t len);

#endif
