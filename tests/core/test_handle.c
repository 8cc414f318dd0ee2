/*
 * test_handle.c — handles and the local name registry, with real contexts of
 * the `tcore` test module: unique handles carrying the harbor id, stale handles
 * rejected after retire, ids not reused at once, names unique (first wins),
 * several names per handle, names dropped with their handle.
 * argv[1]: the cpath template that finds tcore.so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"
#include "skynet_env.h"
#include "skynet_handle.h"
#include "skynet_harbor.h"
#include "skynet_module.h"
#include "skynet_mq.h"
#include "skynet_server.h"
#include "skynet_timer.h"

#define N 300

/* Count failures instead of stopping at the first: the report lists them all. */
static int errors;
#define CHECK_FAILED(file, line, text)                                                                       \
	do {                                                                                                 \
		printf("%s:%d: %s\n", (file), (line), (text));                                               \
		errors++;                                                                                    \
	} while (0)
#include "../check.h"

static void drop(struct skynet_message *m, void *ud)
{
	(void)ud;
	skynet_free(m->data);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: test_handle CPATH\n");
		return 2;
	}
	skynet_globalinit();
	skynet_env_init();
	skynet_harbor_init(7);
	skynet_handle_init(7);
	skynet_mq_init();
	skynet_timer_init();
	if (skynet_module_init(argv[1]) != 0)
		return 2;

	uint32_t h[N];
	for (int i = 0; i < N; i++) {
		struct skynet_context *ctx = skynet_context_new("tcore", "idle");
		CHECKF(ctx != NULL, "context %d not created", i);
		if (ctx == NULL)
			return 1;
		h[i] = skynet_context_handle(ctx);
		CHECKF((h[i] >> 24) == 7, "handle %x lacks harbor id 7", h[i]);
		CHECKF((h[i] & 0xffffff) != 0, "local id 0 handed out");
		for (int j = 0; j < i; j++)
			CHECKF(h[j] != h[i], "handle %x handed out twice", h[i]);
	}
	CHECKF(skynet_context_total() == N, "total %d, want %d", skynet_context_total(), N);

	/* grab finds live handles; a handle of another node or id 0 finds nothing */
	struct skynet_context *c = skynet_handle_grab(h[10]);
	CHECKF(c && skynet_context_handle(c) == h[10], "grab of a live handle");
	if (c)
		skynet_context_release(c);
	CHECKF(skynet_handle_grab(0) == NULL, "grab(0)");
	CHECKF(skynet_handle_grab((h[10] & 0xffffff) | (8u << 24)) == NULL, "grab with the wrong harbor id");

	/* names */
	CHECKF(skynet_handle_namehandle(h[1], "alpha") != NULL, "bind alpha");
	CHECKF(skynet_handle_namehandle(h[1], "beta") != NULL, "second name for the same handle");
	CHECKF(skynet_handle_namehandle(h[2], "alpha") == NULL, "alpha is taken: first binding wins");
	CHECKF(skynet_handle_namehandle(h[2], "gamma") != NULL, "bind gamma");
	for (int i = 0; i < 200; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%03d", (i * 37) % 200);
		CHECKF(skynet_handle_namehandle(h[100 + i % 100], name) != NULL, "bind %s", name);
	}
	for (int i = 0; i < 200; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%03d", (i * 37) % 200);
		CHECKF(skynet_handle_findname(name) == h[100 + i % 100], "find %s", name);
	}
	CHECKF(skynet_handle_findname("alpha") == h[1], "find alpha");
	CHECKF(skynet_handle_findname("beta") == h[1], "find beta");
	CHECKF(skynet_handle_findname("gamma") == h[2], "find gamma");
	CHECKF(skynet_handle_findname("delta") == 0, "missing name");

	/* retire: the handle goes stale, its names go with it */
	CHECKF(skynet_handle_retire(h[1]) == 1, "retire");
	CHECKF(skynet_handle_retire(h[1]) == 0, "retire twice");
	CHECKF(skynet_handle_grab(h[1]) == NULL, "grab of a retired handle");
	CHECKF(skynet_handle_findname("alpha") == 0, "name of a retired handle");
	CHECKF(skynet_handle_findname("beta") == 0, "second name of a retired handle");
	CHECKF(skynet_handle_findname("gamma") == h[2], "other names stay");
	CHECKF(skynet_handle_namehandle(h[3], "alpha") != NULL, "a freed name can be bound again");

	/* a new context does not reuse the retired id at once */
	struct skynet_context *fresh = skynet_context_new("tcore", "idle");
	uint32_t hf = skynet_context_handle(fresh);
	CHECKF(hf != h[1], "retired id %x reused immediately", hf);
	CHECKF(skynet_handle_grab(h[1]) == NULL, "the stale handle stays stale");

	/* a module whose init fails gives no context and retires its handle */
	int before = skynet_context_total();
	CHECKF(skynet_context_new("tcore", "fail") == NULL, "init failure must fail the launch");
	CHECKF(skynet_context_total() == before, "failed launch leaks a context");
	CHECKF(skynet_context_new("no_such_module", "") == NULL, "missing module");

	skynet_handle_retireall();
	CHECKF(skynet_context_total() == 0, "retireall left %d", skynet_context_total());

	struct message_queue *q;
	while ((q = skynet_globalmq_pop()) != NULL)
		skynet_mq_release(q, drop, NULL);
	skynet_module_exit();
	skynet_timer_exit();
	skynet_mq_exit();
	skynet_handle_exit();
	skynet_env_exit();
	if (errors) {
		printf("%d errors\n", errors);
		return 1;
	}
	printf("OK\n");
	return 0;
}
