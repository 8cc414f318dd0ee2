/*
 * tpong — answers "ping" with "pong"; counts one-way messages and answers
 * "end" with the count (an int).
 */
#include <string.h>

#include "skynet.h"

struct tpong {
	int count;
};

void *tpong_create(void);
int tpong_init(struct tpong *p, struct skynet_context *ctx, const char *parm);
void tpong_release(struct tpong *p);

void *tpong_create(void)
{
	return skynet_calloc(1, sizeof(struct tpong));
}

void tpong_release(struct tpong *p)
{
	skynet_free(p);
}

static int tpong_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                    const void *msg, size_t sz)
{
	struct tpong *p = ud;
	if (type != PTYPE_TEXT)
		return 0;
	if (session == 0) {
		p->count++;
	} else if (sz == 3 && memcmp(msg, "end", 3) == 0) {
		skynet_send(ctx, 0, source, PTYPE_RESPONSE, session, &p->count, sizeof(p->count));
	} else {
		skynet_send(ctx, 0, source, PTYPE_RESPONSE, session, "pong", 4);
	}
	return 0;
}

int tpong_init(struct tpong *p, struct skynet_context *ctx, const char *parm)
{
	skynet_callback(ctx, p, tpong_cb);
	return 0;
}
