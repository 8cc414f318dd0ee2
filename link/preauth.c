/*
 * preauth.c — admission of unauthenticated connections (see preauth.h).
 *
 * Invariants:
 *   - a slot is in the admission list iff its `src` is set; `held` is the
 *     list's length and never exceeds limits.total;
 *   - a source record exists iff it has count > 0 slots (its slots are in the
 *     list); so there are at most `held` records and every operation touches
 *     one bucket chain of a table sized to limits.total.
 */
#include "preauth.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "skynet.h"
#include "skynet_ratelog.h"

struct preauth_source {
	struct preauth_source *next; /* bucket chain */
	uint8_t key[16];             /* IPv6 /64 prefix, or the v4-mapped IPv4 address */
	uint32_t count;
};

struct preauth {
	struct skynet_context *ctx;
	char tag[32];
	struct preauth_limits lim;
	struct preauth_slot *oldest, *newest;
	uint32_t held;
	uint64_t refused, evicted;
	uint32_t mask; /* buckets - 1 */
	struct preauth_source **bucket;
	struct skynet_ratelog log_refused, log_evicted, log_closed;
	char what_refused[80], what_evicted[80], what_closed[80];
};

static int parse_limit(struct skynet_context *ctx, const char *key, uint32_t def, uint32_t *out)
{
	const char *v = skynet_command(ctx, "GETENV", key);
	if (v == NULL || v[0] == '\0') {
		*out = def;
		return 0;
	}
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (*end != '\0' || v[0] == '-' || n < 1 || n > 1000000) {
		skynet_error(ctx, "config key '%s' must be an integer from 1 to 1000000 (got '%s')", key, v);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

int preauth_limits_load(struct skynet_context *ctx, struct preauth_limits *lim)
{
	/* The default total leaves three quarters of the descriptors to links,
	 * clients and files, so a flood meets this limit before EMFILE. */
	uint32_t total = PREAUTH_MAX_DEFAULT;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 4 < total)
		total = rl.rlim_cur / 4 < 8 ? 8 : (uint32_t)(rl.rlim_cur / 4);
	if (parse_limit(ctx, "preauth_max", total, &lim->total) != 0)
		return -1;
	uint32_t per = PREAUTH_PER_SOURCE_DEFAULT < lim->total ? PREAUTH_PER_SOURCE_DEFAULT : lim->total;
	if (parse_limit(ctx, "preauth_per_source", per, &lim->per_source) != 0)
		return -1;
	return 0;
}

struct preauth *preauth_new(struct skynet_context *ctx, const char *tag, const struct preauth_limits *lim)
{
	struct preauth *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	uint32_t n = 16;
	while (n < lim->total && n < (1u << 20))
		n <<= 1;
	p->bucket = calloc(n, sizeof(*p->bucket));
	if (p->bucket == NULL) {
		free(p);
		return NULL;
	}
	p->mask = n - 1;
	p->ctx = ctx;
	p->lim = *lim;
	snprintf(p->tag, sizeof(p->tag), "%s", tag);
	snprintf(p->what_refused, sizeof(p->what_refused), "%s: connections refused (per-source limit)", tag);
	snprintf(p->what_evicted, sizeof(p->what_evicted), "%s: pre-auth connections evicted (total limit)",
	         tag);
	snprintf(p->what_closed, sizeof(p->what_closed), "%s: connections closed before authentication", tag);
	skynet_ratelog_init(&p->log_refused, p->what_refused, SKYNET_RATELOG_BURST, SKYNET_RATELOG_WINDOW_MS);
	skynet_ratelog_init(&p->log_evicted, p->what_evicted, SKYNET_RATELOG_BURST, SKYNET_RATELOG_WINDOW_MS);
	skynet_ratelog_init(&p->log_closed, p->what_closed, SKYNET_RATELOG_BURST, SKYNET_RATELOG_WINDOW_MS);
	return p;
}

void preauth_free(struct preauth *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; i <= p->mask; i++) {
		struct preauth_source *s = p->bucket[i];
		while (s) {
			struct preauth_source *next = s->next;
			free(s);
			s = next;
		}
	}
	free(p->bucket);
	free(p);
}

/* "1.2.3.4:5" or "[::1]:5" -> 16-byte key.  IPv6 addresses keep their /64: one
 * host usually owns a whole /64, so counting single addresses would let it
 * take 2^64 sources.  Anything unparsable shares one key (all zeros). */
static void source_key(const char *addr, uint8_t key[16])
{
	memset(key, 0, 16);
	char host[64];
	const char *end = strrchr(addr, ':');
	const char *start = addr;
	if (addr[0] == '[') {
		start = addr + 1;
		end = strchr(start, ']');
	}
	if (end == NULL || (size_t)(end - start) >= sizeof(host))
		return;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		memcpy(key, &a6, 16);
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(key, mapped, 12) != 0)
			memset(key + 8, 0, 8);
	}
}

static uint32_t key_hash(const uint8_t key[16])
{
	/* FNV-1a: sources are not secret, and a chain is bounded by the
	 * per-source limit times the sources one bucket can collect, which the
	 * total limit bounds anyway. */
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static struct preauth_source *source_get(struct preauth *p, const uint8_t key[16], bool create)
{
	struct preauth_source **b = &p->bucket[key_hash(key) & p->mask];
	for (struct preauth_source *s = *b; s; s = s->next)
		if (memcmp(s->key, key, 16) == 0)
			return s;
	if (!create)
		return NULL;
	struct preauth_source *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	memcpy(s->key, key, 16);
	s->next = *b;
	*b = s;
	return s;
}

static void source_drop(struct preauth *p, struct preauth_source *src)
{
	struct preauth_source **pp = &p->bucket[key_hash(src->key) & p->mask];
	while (*pp != src)
		pp = &(*pp)->next;
	*pp = src->next;
	free(src);
}

void preauth_leave(struct preauth *p, struct preauth_slot *s)
{
	if (p == NULL || s->src == NULL)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		p->oldest = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		p->newest = s->prev;
	if (--s->src->count == 0)
		source_drop(p, s->src);
	s->src = NULL;
	s->prev = s->next = NULL;
	p->held--;
}

static bool over_source_limit(struct preauth *p, const struct preauth_source *src, const char *addr)
{
	if (src == NULL || src->count < p->lim.per_source)
		return false;
	p->refused++;
	skynet_ratelog(p->ctx, &p->log_refused,
	               "%s: connection %s refused: its source already "
	               "has %u connections awaiting authentication (preauth_per_source)",
	               p->tag, addr, (unsigned)src->count);
	return true;
}

bool preauth_check(struct preauth *p, const char *addr)
{
	uint8_t key[16];
	source_key(addr, key);
	return !over_source_limit(p, source_get(p, key, false), addr);
}

bool preauth_enter(struct preauth *p, struct preauth_slot *s, const char *addr, struct preauth_slot **evict)
{
	*evict = NULL;
	uint8_t key[16];
	source_key(addr, key);
	struct preauth_source *src = source_get(p, key, false);
	if (over_source_limit(p, src, addr))
		return false;
	if (p->held >= p->lim.total) {
		struct preauth_slot *old = p->oldest;
		preauth_leave(p, old);
		p->evicted++;
		skynet_ratelog(p->ctx, &p->log_evicted,
		               "%s: %u connections awaiting authentication "
		               "(preauth_max): the oldest is closed to admit %s",
		               p->tag, (unsigned)p->lim.total, addr);
		*evict = old;
		/* the eviction may have dropped the record `src` pointed to */
		src = NULL;
	}
	if (src == NULL)
		src = source_get(p, key, true);
	if (src == NULL) {
		p->refused++;
		skynet_ratelog(p->ctx, &p->log_refused, "%s: connection %s refused: out of memory", p->tag,
		               addr);
		return false;
	}
	src->count++;
	s->src = src;
	s->next = NULL;
	s->prev = p->newest;
	if (p->newest)
		p->newest->next = s;
	else
		p->oldest = s;
	p->newest = s;
	p->held++;
	return true;
}

void preauth_log_close(struct preauth *p, const char *addr, const char *reason)
{
	skynet_ratelog(p->ctx, &p->log_closed,
	               "%s: connection %s refused/closed before "
	               "authentication: %s",
	               p->tag, addr, reason);
}

void preauth_tick(struct preauth *p)
{
	skynet_ratelog_flush(p->ctx, &p->log_refused);
	skynet_ratelog_flush(p->ctx, &p->log_evicted);
	skynet_ratelog_flush(p->ctx, &p->log_closed);
}

void preauth_stats(const struct preauth *p, struct preauth_stats *st)
{
	st->held = p->held;
	st->refused = p->refused;
	st->evicted = p->evicted;
}
