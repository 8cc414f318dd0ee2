/*
 * tping — ping-pong test/bench service.
 * param "N [flood]": launches a `tpong` peer, then sends N requests (one at a
 * time, each waiting for its reply) or, with "flood", N one-way messages
 * followed by one request. When done logs "TPING OK <n> <us-per-msg>" and
 * aborts the node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skynet.h"

struct tping {
	uint32_t peer;
	int total;
	int sent;
	int flood;
	int replies;
	int kick;
	struct timespec t0;
};

void *tping_create(void);
int tping_init(struct tping *p, struct skynet_context *ctx, const char *parm);
void tping_release(struct tping *p);

void *tping_create(void)
{
	return skynet_calloc(1, sizeof(struct tping));
}

void tping_release(struct tping *p)
{
	skynet_free(p);
}

static double elapsed_us(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e6 + (t1.tv_nsec - t0->tv_nsec) / 1e3;
}

static void finish(struct skynet_context *ctx, struct tping *p)
{
	double us = elapsed_us(&p->t0);
	skynet_error(ctx, "TPING OK %d %.3f us/msg %.0f msgs/s", p->total, us / p->total,
	             p->total / (us / 1e6));
	skynet_command(ctx, "ABORT", NULL);
}

static int tping_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                    const void *msg, size_t sz)
{
	struct tping *p = ud;
	if (type == PTYPE_RESPONSE && session == p->kick && p->peer == 0) {
		/* kick-off timer set by init */
		const char *r = skynet_command(ctx, "LAUNCH", "tpong");
		if (r == NULL) {
			skynet_error(ctx, "TPING FAIL cannot launch tpong");
			skynet_command(ctx, "ABORT", NULL);
			return 0;
		}
		p->peer = (uint32_t)strtoul(r + 1, NULL, 16);
		clock_gettime(CLOCK_MONOTONIC, &p->t0);
		if (p->flood) {
			for (int i = 0; i < p->total; i++)
				skynet_send(ctx, 0, p->peer, PTYPE_TEXT, 0, "x", 1);
			skynet_send(ctx, 0, p->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "end", 3);
		} else {
			p->sent = 1;
			skynet_send(ctx, 0, p->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "ping", 4);
		}
		return 0;
	}
	if (type == PTYPE_RESPONSE) {
		if (p->flood) {
			if (sz != sizeof(int) || *(const int *)msg != p->total) {
				skynet_error(ctx, "TPING FAIL peer counted %d of %d",
				             sz == sizeof(int) ? *(const int *)msg : -1, p->total);
				skynet_command(ctx, "ABORT", NULL);
				return 0;
			}
			finish(ctx, p);
			return 0;
		}
		if (sz != 4 || memcmp(msg, "pong", 4) != 0) {
			skynet_error(ctx, "TPING FAIL bad reply");
			skynet_command(ctx, "ABORT", NULL);
			return 0;
		}
		if (++p->replies == p->total) {
			finish(ctx, p);
			return 0;
		}
		p->sent++;
		skynet_send(ctx, 0, p->peer, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "ping", 4);
	}
	return 0;
}

int tping_init(struct tping *p, struct skynet_context *ctx, const char *parm)
{
	p->total = 1000;
	if (parm && parm[0]) {
		char mode[16] = "";
		sscanf(parm, "%d %15s", &p->total, mode);
		p->flood = strcmp(mode, "flood") == 0;
	}
	if (p->total <= 0)
		p->total = 1;
	skynet_callback(ctx, p, tping_cb);
	/* Start from a message so the launch returns first. */
	p->kick = (int)strtol(skynet_command(ctx, "TIMEOUT", "0"), NULL, 10);
	return 0;
}
