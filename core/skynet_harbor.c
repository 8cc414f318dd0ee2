/*
 * skynet_harbor.c — the runtime side of the harbor: node id, remote detection,
 * and handing remote messages to the harbor service.
 */
#include "skynet_harbor.h"

#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "skynet.h"
#include "skynet_handle.h"
#include "skynet_mq.h"
#include "skynet_server.h"

static _Atomic(struct skynet_context *) REMOTE = NULL;
static unsigned int HARBOR = ~0u;

void skynet_harbor_send(struct remote_message *rmsg, uint32_t source, int session)
{
	struct skynet_context *remote = atomic_load(&REMOTE);
	if (remote == NULL && rmsg->destination.handle == 0) {
		/* Single node: a global name registered on this node is delivered here. */
		char name[GLOBALNAME_LENGTH + 1];
		memcpy(name, rmsg->destination.name, GLOBALNAME_LENGTH);
		name[GLOBALNAME_LENGTH] = '\0';
		uint32_t h = skynet_harbor_localname_find(name);
		if (h) {
			skynet_send(NULL, source, h, rmsg->type | PTYPE_TAG_DONTCOPY, session,
			            (void *)rmsg->message, rmsg->sz);
			skynet_free(rmsg);
			return;
		}
	}
	if (remote == NULL) {
		/* No harbor service (single node, or not started yet): the destination
		 * is unreachable. Fail like a DOWN peer: free, PTYPE_ERROR back to the
		 * sender as if from the destination, so a call fails instead of hanging. */
		uint32_t from = rmsg->destination.handle;
		if (from == 0)
			from = source; /* a global name has no handle: answer from ourselves */
		int type = rmsg->type;
		skynet_free((void *)rmsg->message);
		if (rmsg->destination.handle)
			skynet_error(NULL, "Drop message to :%08x from :%08x: no harbor (single node)",
			             rmsg->destination.handle, source);
		else
			skynet_error(NULL, "Drop message to %.*s from :%08x: unknown global name",
			             GLOBALNAME_LENGTH, rmsg->destination.name, source);
		skynet_free(rmsg);
		if (type != PTYPE_ERROR && source != 0)
			skynet_send(NULL, from, source, PTYPE_ERROR, session, NULL, 0);
		return;
	}
	int type = rmsg->type;
	if (type == PTYPE_SYSTEM || type == PTYPE_HARBOR) {
		/* These types never cross nodes. */
		skynet_error(NULL, "error: Can't send message type %d to another node", type);
		skynet_free((void *)rmsg->message);
		skynet_free(rmsg);
		return;
	}
	skynet_context_send(remote, rmsg, sizeof(*rmsg), source, PTYPE_SYSTEM, session);
}

/* Node-local global names live in the handle name registry under a prefix no
 * `.name` can produce from Lua or a config, so they vanish with their service. */
#define LOCAL_GLOBAL_PREFIX '\x01'

int skynet_harbor_localname_bind(const char *name, uint32_t handle)
{
	char key[GLOBALNAME_LENGTH + 2];
	size_t n = strlen(name);
	if (n == 0 || n >= GLOBALNAME_LENGTH)
		return -1;
	key[0] = LOCAL_GLOBAL_PREFIX;
	memcpy(key + 1, name, n + 1);
	return skynet_handle_namehandle(handle, key) ? 0 : -1;
}

uint32_t skynet_harbor_localname_find(const char *name)
{
	char key[GLOBALNAME_LENGTH + 2];
	size_t n = strlen(name);
	if (n == 0 || n >= GLOBALNAME_LENGTH)
		return 0;
	key[0] = LOCAL_GLOBAL_PREFIX;
	memcpy(key + 1, name, n + 1);
	return skynet_handle_findname(key);
}

int skynet_harbor_message_isremote(uint32_t handle)
{
	assert(HARBOR != ~0u);
	uint32_t h = (handle & ~HANDLE_MASK);
	return h != HARBOR && h != 0;
}

void skynet_harbor_init(int harbor)
{
	HARBOR = (unsigned int)harbor << HANDLE_REMOTE_SHIFT;
}

void skynet_harbor_start(void *ctx)
{
	/* the HARBOR must be reserved to ensure the pointer is valid.
	 * It will be released at last by calling skynet_harbor_exit */
	skynet_context_reserve(ctx);
	atomic_store(&REMOTE, (struct skynet_context *)ctx);
}

void skynet_harbor_exit(void)
{
	struct skynet_context *ctx = atomic_exchange(&REMOTE, NULL);
	if (ctx)
		skynet_context_release(ctx);
}
