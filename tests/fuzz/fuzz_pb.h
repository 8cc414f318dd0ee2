/*
 * fuzz_pb.h — the protobuf round-trip property shared by the frame targets.
 */
#ifndef SKIFF_FUZZ_PB_H
#define SKIFF_FUZZ_PB_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* The one arena of a target, set up on first use (a target runs one input at
 * a time, and each one resets the arena it used). */
struct pb_arena *fuzz_arena(void);

/* Decodes data with d into a; whatever decodes, stripped of unknown fields,
 * must re-encode to bytes that decode and re-encode to the same bytes.  Traps
 * otherwise.  Resets the arena. */
void fuzz_pb_roundtrip(const ProtobufCMessageDescriptor *d, struct pb_arena *a, const uint8_t *data,
                       size_t size);

#endif
