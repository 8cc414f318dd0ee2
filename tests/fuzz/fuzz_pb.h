/*
 * fuzz_pb.h — the protobuf round-trip property shared by the frame targets.
 */
#ifndef SKIFF_FUZZ_PB_H
#define SKIFF_FUZZ_PB_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Decodes data with d into a; whatever decodes, stripped of unknown fields,
 * must re-encode to bytes that decode and re-encode to the same bytes.  Traps
 * otherwise.  Resets the arena. */
void fuzz_pb_roundtrip(const ProtobufCMessageDescriptor *d, struct pb_arena *a,
	const uint8_t *data, size_t size);

#endif
