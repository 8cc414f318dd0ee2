/*
 * preauth_test.c — admission of unauthenticated connections (link/preauth.c)
 * and the rate-limited log (core/skynet_ratelog.c), driven directly:
 * per-source limit and its release, IPv6 sources grouped by /64 and
 * v4-mapped addresses counted as IPv4, eviction of the oldest slot at the
 * total limit, idempotent leave, unparsable addresses, and the log limiter's
 * burst, count and window.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "preauth.h"
#include "skynet_handle.h"
#include "skynet_ratelog.h"

static int errors;
#define EXPECT(c, ...)                                                                                       \
	do {                                                                                                 \
		if (!(c)) {                                                                                  \
			printf("FAIL line %d: ", __LINE__);                                                  \
			printf(__VA_ARGS__);                                                                 \
			printf("\n");                                                                        \
			errors++;                                                                            \
		}                                                                                            \
	} while (0)

static bool enter(struct preauth *p, struct preauth_slot *s, const char *addr, struct preauth_slot **evict)
{
	memset(s, 0, sizeof(*s));
	return preauth_enter(p, s, addr, evict);
}

static void per_source(void)
{
	struct preauth_limits lim = { .per_source = 3, .total = 100 };
	struct preauth *p = preauth_new(NULL, "t", &lim);
	struct preauth_slot s[8], *ev;
	for (int i = 0; i < 3; i++)
		EXPECT(enter(p, &s[i], "10.0.0.1:1000", &ev) && ev == NULL, "slot %d of a source", i);
	EXPECT(!preauth_check(p, "10.0.0.1:2000"), "check: the 4th from a source");
	EXPECT(!enter(p, &s[3], "10.0.0.1:2000", &ev), "the 4th from a source is refused");
	EXPECT(s[3].src == NULL, "a refused slot holds nothing");
	EXPECT(enter(p, &s[4], "10.0.0.2:1000", &ev), "another source is admitted");
	/* v4-mapped IPv6 is the same IPv4 source */
	EXPECT(!enter(p, &s[5], "[::ffff:10.0.0.1]:7", &ev), "v4-mapped counts as 10.0.0.1");
	preauth_leave(p, &s[1]);
	preauth_leave(p, &s[1]); /* idempotent */
	EXPECT(preauth_check(p, "10.0.0.1:3000"), "a slot given back makes room");
	EXPECT(enter(p, &s[1], "10.0.0.1:3000", &ev), "admitted again");
	struct preauth_stats st;
	preauth_stats(p, &st);
	EXPECT(st.held == 4 && st.refused == 3 && st.evicted == 0, "stats %u %llu %llu", st.held,
	       (unsigned long long)st.refused, (unsigned long long)st.evicted);
	for (int i = 0; i < 5; i++)
		preauth_leave(p, &s[i]);
	preauth_stats(p, &st);
	EXPECT(st.held == 0, "all left: %u", st.held);
	preauth_free(p);
}

static void ipv6(void)
{
	struct preauth_limits lim = { .per_source = 2, .total = 100 };
	struct preauth *p = preauth_new(NULL, "t", &lim);
	struct preauth_slot s[6], *ev;
	EXPECT(enter(p, &s[0], "[2001:db8::1]:1", &ev), "v6 1");
	EXPECT(enter(p, &s[1], "[2001:db8::ffff:2]:2", &ev), "v6 same /64");
	EXPECT(!enter(p, &s[2], "[2001:db8::3]:3", &ev), "a third in the same /64 is refused");
	EXPECT(enter(p, &s[3], "[2001:db8:0:1::1]:4", &ev), "the next /64 is another source");
	/* what cannot be parsed shares one source */
	EXPECT(enter(p, &s[4], "unknown", &ev), "unparsable 1");
	EXPECT(enter(p, &s[5], "garbage:x", &ev), "unparsable 2");
	EXPECT(!preauth_check(p, "[nonsense]:1"), "unparsable 3 is over the same limit");
	preauth_free(p);
}

static void eviction(void)
{
	struct preauth_limits lim = { .per_source = 4, .total = 4 };
	struct preauth *p = preauth_new(NULL, "t", &lim);
	struct preauth_slot s[6], *ev;
	const char *addr[] = { "10.0.0.1:1", "10.0.0.2:1", "10.0.0.1:2",
		               "10.0.0.3:1", "10.0.0.4:1", "10.0.0.1:3" };
	for (int i = 0; i < 4; i++)
		EXPECT(enter(p, &s[i], addr[i], &ev) && ev == NULL, "fill %d", i);
	EXPECT(enter(p, &s[4], addr[4], &ev) && ev == &s[0], "the oldest is evicted");
	EXPECT(s[0].src == NULL, "the evicted slot holds nothing");
	preauth_leave(p, &s[0]); /* the owner closing it later: no effect */
	EXPECT(enter(p, &s[5], addr[5], &ev) && ev == &s[1], "then the next oldest");
	struct preauth_stats st;
	preauth_stats(p, &st);
	EXPECT(st.held == 4 && st.evicted == 2 && st.refused == 0, "stats %u %llu", st.held,
	       (unsigned long long)st.evicted);
	/* leaving from the middle keeps the order of the others */
	preauth_leave(p, &s[3]);
	struct preauth_slot extra;
	EXPECT(enter(p, &extra, "10.0.0.9:1", &ev) && ev == NULL, "room after a leave");
	EXPECT(enter(p, &s[3], "10.0.0.9:2", &ev) && ev == &s[2], "oldest is s[2] now");
	preauth_free(p);
}

static void ratelog(void)
{
	struct skynet_ratelog r;
	skynet_ratelog_init(&r, "t", 3, 50);
	for (int i = 0; i < 100; i++)
		skynet_ratelog(NULL, &r, "event %d", i);
	EXPECT(r.logged == 3 && r.suppressed == 97 && r.total == 100, "burst %u %llu %llu", r.logged,
	       (unsigned long long)r.suppressed, (unsigned long long)r.total);
	skynet_ratelog_flush(NULL, &r);
	EXPECT(r.suppressed == 97, "the window is not over: nothing flushed");
	struct timespec ts = { 0, 60 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	skynet_ratelog_flush(NULL, &r);
	EXPECT(r.suppressed == 0 && r.logged == 0, "flushed after the window");
	skynet_ratelog(NULL, &r, "again");
	EXPECT(r.logged == 1 && r.total == 101, "a new window logs again");
}

int main(void)
{
	skynet_handle_init(0); /* skynet_error finds no logger and drops the lines */
	per_source();
	ipv6();
	eviction();
	ratelog();
	if (errors) {
		printf("%d failures\n", errors);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
