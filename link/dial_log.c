/*
 * dial_log.c — per-address state of failing outgoing connections; see
 * dial_log.h for the rules.  A handful of slots searched linearly: a node
 * dials the master and at most a few hundred peers, and only failures and
 * the first success after them come here, never the message path.
 */
#include "dial_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"

struct dial_slot {
	char addr[72];       /* "" = free */
	char reason[160];    /* the reason last logged */
	uint64_t first_ms;   /* first failure of this run of failures */
	uint64_t logged_ms;  /* last line logged */
	uint64_t touched_ms; /* last event: picks the slot to reuse */
	uint64_t attempts;   /* failures since first_ms */
	uint64_t unlogged;   /* failures since logged_ms not yet in a line */
};

struct dial_log {
	struct dial_slot slot[DIAL_LOG_SLOTS];
};

struct dial_log *dial_log_new(void)
{
	return calloc(1, sizeof(struct dial_log));
}

void dial_log_free(struct dial_log *d)
{
	free(d);
}

static struct dial_slot *find(struct dial_log *d, const char *addr)
{
	for (int i = 0; i < DIAL_LOG_SLOTS; i++)
		if (d->slot[i].addr[0] && strcmp(d->slot[i].addr, addr) == 0)
			return &d->slot[i];
	return NULL;
}

static struct dial_slot *take(struct dial_log *d, const char *addr)
{
	struct dial_slot *s = &d->slot[0];
	for (int i = 0; i < DIAL_LOG_SLOTS; i++) {
		if (d->slot[i].addr[0] == '\0') {
			s = &d->slot[i];
			break;
		}
		if (d->slot[i].touched_ms < s->touched_ms)
			s = &d->slot[i];
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	return s;
}

void dial_log_failed(struct dial_log *d, struct skynet_context *ctx, const char *tag, const char *addr,
                     const char *reason, uint64_t now_ms)
{
	if (d == NULL)
		return;
	struct dial_slot *s = find(d, addr);
	if (s == NULL) {
		s = take(d, addr);
		s->first_ms = now_ms;
	}
	s->touched_ms = now_ms;
	s->attempts++;
	if (s->attempts == 1 || strcmp(s->reason, reason) != 0) {
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
		s->logged_ms = now_ms;
		s->unlogged = 0;
		skynet_error(ctx, "%s: cannot reach %s: %s (retrying; repeats are counted every %d s)", tag,
		             addr, reason, DIAL_LOG_PERIOD_MS / 1000);
		return;
	}
	s->unlogged++;
	if (now_ms - s->logged_ms >= DIAL_LOG_PERIOD_MS) {
		skynet_error(ctx,
		             "%s: still cannot reach %s: %s (%llu failed attempts in the last %llu s, "
		             "%llu since %llu s ago)",
		             tag, addr, reason, (unsigned long long)s->unlogged,
		             (unsigned long long)((now_ms - s->logged_ms) / 1000),
		             (unsigned long long)s->attempts,
		             (unsigned long long)((now_ms - s->first_ms) / 1000));
		s->logged_ms = now_ms;
		s->unlogged = 0;
	}
}

void dial_log_up(struct dial_log *d, struct skynet_context *ctx, const char *tag, const char *addr,
                 uint64_t now_ms)
{
	if (d == NULL)
		return;
	struct dial_slot *s = find(d, addr);
	if (s == NULL)
		return;
	skynet_error(ctx, "%s: reached %s again after %llu failed attempts in %.1f s", tag, addr,
	             (unsigned long long)s->attempts, (double)(now_ms - s->first_ms) / 1000.0);
	s->addr[0] = '\0';
}
