/*
 * skynet.h — the public API for Skiff C services.
 *
 * A C service is a shared object named <name>.so found through the `cpath` config
 * key. It exports:
 *   void *<name>_create(void);                                   (optional)
 *   int   <name>_init(void *inst, struct skynet_context *, const char *parm);
 *   void  <name>_release(void *inst);                            (optional)
 *   void  <name>_signal(void *inst, int sig);                    (optional, any thread)
 *
 * Ownership rule for messages: after skynet_send / skynet_sendname returns, the
 * runtime owns `data` on every path, errors included, when PTYPE_TAG_DONTCOPY is
 * set; without it the runtime copies the payload (adding a trailing NUL) and the
 * caller keeps its buffer. A callback that returns 0 lets the runtime free the
 * message it was given; non-zero means the callback kept it.
 */
#ifndef SKYNET_H
#define SKYNET_H

#include <stddef.h>
#include <stdint.h>

#include "skynet_malloc.h"

#define PTYPE_TEXT 0
#define PTYPE_RESPONSE 1
#define PTYPE_MULTICAST 2
#define PTYPE_CLIENT 3
#define PTYPE_SYSTEM 4
#define PTYPE_HARBOR 5
#define PTYPE_SOCKET 6
#define PTYPE_ERROR 7
#define PTYPE_RESERVED_QUEUE 8
#define PTYPE_RESERVED_DEBUG 9
#define PTYPE_RESERVED_LUA 10
#define PTYPE_RESERVED_SNAX 11
/* Skiff's C code also sends these (lualib/skynet.lua names the same numbers
 * for Lua): a trace tag, and a request to the node's cluster service. */
#define PTYPE_TRACE 12
#define PTYPE_CLUSTER 26

#define PTYPE_TAG_DONTCOPY 0x10000
#define PTYPE_TAG_ALLOCSESSION 0x20000

struct skynet_context;

void skynet_error(struct skynet_context *context, const char *msg, ...) __attribute__((format(printf, 2, 3)));
const char *skynet_command(struct skynet_context *context, const char *cmd, const char *parm);
uint32_t skynet_queryname(struct skynet_context *context, const char *name);

/* Return: session (>= 0) on success, -1 invalid destination, -2 message too large. */
int skynet_send(struct skynet_context *context, uint32_t source, uint32_t destination, int type, int session,
                void *msg, size_t sz);
int skynet_sendname(struct skynet_context *context, uint32_t source, const char *destination, int type,
                    int session, void *msg, size_t sz);

int skynet_isremote(struct skynet_context *, uint32_t handle, int *harbor);

typedef int (*skynet_cb)(struct skynet_context *context, void *ud, int type, int session, uint32_t source,
                         const void *msg, size_t sz);
void skynet_callback(struct skynet_context *context, void *ud, skynet_cb cb);

uint32_t skynet_current_handle(void);
uint64_t skynet_now(void);
void skynet_debug_memory(const char *info);

#endif
