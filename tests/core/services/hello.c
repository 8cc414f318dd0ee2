/*
 * hello — the README's example C service, built outside the tree by the install
 * test against the installed skynet.h (pkg-config skiff). It logs its param
 * and each text message, then exits on a timer so the node stops.
 */
#include <skynet.h>
#include <stdlib.h>

static int cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source, const void *msg,
              size_t sz)
{
	if (type == PTYPE_TEXT)
		skynet_error(ctx, "hello got: %.*s", (int)sz, (const char *)msg);
	if (type == PTYPE_RESPONSE)
		skynet_command(ctx, "EXIT", NULL);
	return 0;
}

int hello_init(void *inst, struct skynet_context *ctx, const char *parm);

int hello_init(void *inst, struct skynet_context *ctx, const char *parm)
{
	skynet_callback(ctx, NULL, cb);
	skynet_error(ctx, "HELLO %s", parm ? parm : "");
	const char *self = skynet_command(ctx, "REG", NULL);
	skynet_send(ctx, 0, (uint32_t)strtoul(self + 1, NULL, 16), PTYPE_TEXT, 0, "ping", 4);
	skynet_command(ctx, "TIMEOUT", "1");
	return 0;
}
