/*
 * skynet_handle.h — service handles and the node-local `.name` registry.
 * A handle is 32 bits: the high 8 bits are the node (harbor) id, the low 24 bits
 * the local id (never 0).
 */
#ifndef SKYNET_CONTEXT_HANDLE_H
#define SKYNET_CONTEXT_HANDLE_H

#include <stdint.h>

/* reserve high 8 bits for remote id */
#define HANDLE_MASK 0xffffff
#define HANDLE_REMOTE_SHIFT 24

struct skynet_context;

uint32_t skynet_handle_register(struct skynet_context *);
int skynet_handle_retire(uint32_t handle);
/* Returns the context with one more reference (release it), or NULL for a
 * missing or stale handle. */
struct skynet_context *skynet_handle_grab(uint32_t handle);
void skynet_handle_retireall(void);
/* Call fn for every live context under the read lock: fn must be quick and
 * must not call skynet_handle_* itself. */
void skynet_handle_foreach(void (*fn)(struct skynet_context *, void *), void *ud);

uint32_t skynet_handle_findname(const char *name);
/* Binds name to handle; returns the stored copy, or NULL if the name is taken. */
const char *skynet_handle_namehandle(uint32_t handle, const char *name);

void skynet_handle_init(int harbor);
void skynet_handle_exit(void);

#endif
