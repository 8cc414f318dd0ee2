/*
 * harbor_frame.h — the harbor protocol's record types (proto/harbor.proto
 * FrameType) mapped to their protobuf-c descriptors, for frame_decode().
 */
#ifndef SKIFF_HARBOR_FRAME_H
#define SKIFF_HARBOR_FRAME_H

#include "frame.h"

/* The message carried by a record type: link.proto HEARTBEAT and every
 * harbor.proto FrameType.  NULL for any other type. */
const ProtobufCMessageDescriptor *harbor_frame_descriptor(unsigned type);

#endif
