/*
 * skynet_harbor.h — the runtime's hook to the harbor service.
 *
 * A message whose destination is on another node (or is a global name) is wrapped
 * in a remote_message and handed to the harbor service as PTYPE_SYSTEM with the
 * original source and session. The harbor service owns rmsg->message from then on.
 * When no harbor service is running (single node, or before it starts), the hook
 * fails the message itself: the payload is freed and a PTYPE_ERROR goes back to
 * the sender, as skynet's single-node harbor does.
 */
#ifndef SKYNET_HARBOR_H
#define SKYNET_HARBOR_H

#include <stddef.h>
#include <stdint.h>

#define GLOBALNAME_LENGTH 16
#define REMOTE_MAX 256

struct remote_name {
	char name[GLOBALNAME_LENGTH]; /* zero padded, not always NUL terminated */
	uint32_t handle;              /* 0 when addressing by name */
};

struct remote_message {
	struct remote_name destination;
	const void *message; /* owned by the receiver of the remote_message */
	size_t sz;
	int type;
};

struct skynet_context;

void skynet_harbor_send(struct remote_message *rmsg, uint32_t source, int session);
int skynet_harbor_message_isremote(uint32_t handle);
void skynet_harbor_init(int harbor);
/* Register the harbor service; it is "reserved" so it does not keep the node alive. */
void skynet_harbor_start(void *ctx);
void skynet_harbor_exit(void);

/* Single-node global names (harbor = 0): bound by the HARBORNAME command, found
 * by skynet_sendname when no harbor service runs. bind returns 0, or -1 when
 * the name is taken or not 1..15 bytes. */
int skynet_harbor_localname_bind(const char *name, uint32_t handle);
uint32_t skynet_harbor_localname_find(const char *name);

#endif
