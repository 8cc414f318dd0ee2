/*
 * pbarena.h — a ProtobufCAllocator that decodes frames into reused memory.
 *
 * protobuf-c's unpack allocates the message, every string and a copy of every
 * bytes field.  With an arena those allocations are bumps in one buffer that is
 * reset, not freed, after each frame, so decoding in steady state never calls
 * malloc.  Two kinds of arena:
 *   - fixed: the caller's buffer (often on the stack); an allocation that does
 *     not fit fails, so unpack fails.  For small pre-authentication messages
 *     whose size is bounded.
 *   - heap: a buffer that grows to fit the frames seen (up to a cap).  Large
 *     allocations (a big Data payload) get their own malloc block, which the
 *     caller may steal with pb_arena_steal() and hand on as a skynet message
 *     without copying it again.
 *
 * Usage: m = unpack(desc, &a.allocator, len, data); use m; pb_arena_reset(&a).
 * Never call protobuf_c_message_free_unpacked on arena messages (harmless, but
 * pointless): reset drops everything at once.
 */
#ifndef SKIFF_PBARENA_H
#define SKIFF_PBARENA_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct pb_arena {
	ProtobufCAllocator allocator; /* hand &arena->allocator to protobuf-c */
	/* The rest is private. */
	uint8_t *base;
	size_t used, cap;
	size_t overflow; /* bytes that did not fit since the last reset */
	int fixed;
	void **big; /* separately malloc'd blocks, owned */
	size_t nbig, bigcap;
};

/* buf != NULL: fixed arena over buf[0..size).  buf == NULL: heap arena starting
 * with `size` bytes (0: a default). */
void pb_arena_init(struct pb_arena *a, void *buf, size_t size);
/* Forgets every allocation; frees big blocks not stolen. */
void pb_arena_reset(struct pb_arena *a);
/* Releases everything the arena holds. */
void pb_arena_finish(struct pb_arena *a);
/* If p is a big block of the arena, the arena forgets it and returns p: the
 * caller now owns it and releases it with free().  Otherwise NULL (p lives in
 * the arena's buffer: copy it). */
void *pb_arena_steal(struct pb_arena *a, void *p);

#endif
