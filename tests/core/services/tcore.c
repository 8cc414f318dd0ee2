/*
 * tcore — integration test service for the core runtime. Param: "<mode> [args]".
 * Test modes log "TCORE <mode> OK" on success or "TCORE FAIL <why>" and then
 * abort the node; helper modes (idle, slow, spin, exitself) are children the
 * test modes launch. The test driver (tests/core/run_node.py) checks the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "skynet.h"

#define MAXT 128

struct tcore {
	struct skynet_context *ctx;
	char mode[32];
	int kick;
	int step;
	int failed;
	uint32_t self;
	uint32_t child[4];
	/* timeout mode */
	int tsession[MAXT];
	int tdelay[MAXT];
	uint64_t tstart;
	int tfired;
	int ntimers;
	/* counters */
	int responses;
	int errors;
	int expect;
	int monitor_seen;
};

void *tcore_create(void);
int tcore_init(struct tcore *t, struct skynet_context *ctx, const char *parm);
void tcore_release(struct tcore *t);

void *tcore_create(void)
{
	return skynet_calloc(1, sizeof(struct tcore));
}

void tcore_release(struct tcore *t)
{
	skynet_free(t);
}

/* A failed check fails the test service, never the node: it reports and
 * returns from the callback. */
#define CHECK_FAILED(file, line, text)                                                                       \
	do {                                                                                                 \
		fail(t, (text), (line));                                                                     \
		return 0;                                                                                    \
	} while (0)
#include "../../check.h"

static void fail(struct tcore *t, const char *why, int line)
{
	t->failed = 1;
	skynet_error(t->ctx, "TCORE FAIL %s: %s (line %d)", t->mode, why, line);
	skynet_command(t->ctx, "ABORT", NULL);
}

static void pass(struct tcore *t)
{
	skynet_error(t->ctx, "TCORE %s OK", t->mode);
	skynet_command(t->ctx, "ABORT", NULL);
}

static uint32_t parse_handle(const char *r)
{
	return r ? (uint32_t)strtoul(r + 1, NULL, 16) : 0;
}

static uint32_t launch(struct tcore *t, const char *args)
{
	return parse_handle(skynet_command(t->ctx, "LAUNCH", args));
}

static int timeout(struct tcore *t, int cs)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%d", cs);
	return (int)strtol(skynet_command(t->ctx, "TIMEOUT", buf), NULL, 10);
}

static void busy_wait_us(long us)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

/* ---------- helper children ---------- */

static int child_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                    const void *msg, size_t sz)
{
	struct tcore *t = ud;
	if (strcmp(t->mode, "slow") == 0) {
		if (sz == 5 && memcmp(msg, "block", 5) == 0)
			busy_wait_us(300000);
		busy_wait_us(t->step > 0 ? t->step : 200);
		if (session && type == PTYPE_TEXT)
			skynet_send(ctx, 0, source, PTYPE_RESPONSE, session, "done", 4);
	} else if (strcmp(t->mode, "spin") == 0) {
		if (type == PTYPE_TEXT) {
			/* Run one message for 11 s: the monitor checks every 5 s. */
			busy_wait_us(11 * 1000000L);
			const char *e = skynet_command(ctx, "STAT", "endless");
			skynet_error(ctx, "TCORE spin endless=%s", e);
			if (session)
				skynet_send(ctx, 0, source, PTYPE_RESPONSE, session, (void *)e, strlen(e));
		}
	} else if (strcmp(t->mode, "exitself") == 0) {
		if (type == PTYPE_RESPONSE && session == t->kick)
			skynet_command(ctx, "EXIT", NULL);
	} else if (strcmp(t->mode, "echo") == 0) {
		if (session && type != PTYPE_RESPONSE && type != PTYPE_ERROR)
			skynet_send(ctx, 0, source, PTYPE_RESPONSE, session, (void *)msg, sz);
	}
	/* idle: ignore everything */
	return 0;
}

/* ---------- test modes ---------- */

static int mode_timeout(struct tcore *t, int type, int session)
{
	if (t->step == 0) {
		/* TIMEOUT 0 answers at once; others on their tick. */
		t->tstart = skynet_now();
		int delays[] = { 0, 1, 2, 5, 10, 50, 100, 255, 256, 257, 300 };
		t->ntimers = (int)(sizeof(delays) / sizeof(delays[0]));
		for (int i = 0; i < t->ntimers; i++) {
			t->tdelay[i] = delays[i];
			t->tsession[i] = timeout(t, delays[i]);
			CHECKF(t->tsession[i] > 0, "TIMEOUT returned session %d", t->tsession[i]);
		}
		t->step = 1;
		return 0;
	}
	CHECKF(type == PTYPE_RESPONSE, "unexpected type %d", type);
	int i;
	for (i = 0; i < t->ntimers; i++)
		if (t->tsession[i] == session)
			break;
	CHECKF(i < t->ntimers, "unknown session %d", session);
	uint64_t waited = skynet_now() - t->tstart;
	CHECKF(waited + 1 >= (uint64_t)t->tdelay[i], "timer %d cs fired after %llu cs", t->tdelay[i],
	       (unsigned long long)waited);
	CHECKF(waited <= (uint64_t)t->tdelay[i] + 50, "timer %d cs fired late after %llu cs", t->tdelay[i],
	       (unsigned long long)waited);
	t->tsession[i] = -1;
	if (++t->tfired == t->ntimers)
		pass(t);
	return 0;
}

static int mode_monitor(struct tcore *t, int type, int session, uint32_t source)
{
	if (t->step == 0) {
		char me[16];
		snprintf(me, sizeof(me), ":%x", t->self);
		skynet_command(t->ctx, "MONITOR", me);
		const char *m = skynet_command(t->ctx, "MONITOR", "");
		CHECKF(m && parse_handle(m) == t->self, "MONITOR get returned %s", m ? m : "NULL");
		t->child[0] = launch(t, "tcore idle");
		t->child[1] = launch(t, "tcore exitself");
		CHECKF(t->child[0] && t->child[1], "launch failed");
		char kill[16];
		snprintf(kill, sizeof(kill), ":%x", t->child[0]);
		skynet_command(t->ctx, "KILL", kill);
		t->step = 1;
		return 0;
	}
	if (type == PTYPE_CLIENT) {
		CHECKF(source == t->child[0] || source == t->child[1], "exit notice from :%x", source);
		if (source == t->child[0])
			t->monitor_seen |= 1;
		else
			t->monitor_seen |= 2;
		if (t->monitor_seen == 3) {
			/* Both gone: their handles must be stale now. */
			CHECKF(skynet_send(t->ctx, 0, t->child[0], PTYPE_TEXT, 0, "x", 1) == -1,
			       "send to a killed service succeeded");
			skynet_command(t->ctx, "MONITOR", NULL);
			pass(t);
		}
	}
	return 0;
}

static int mode_overload(struct tcore *t, int type, int session)
{
	if (t->step == 0) {
		t->child[0] = launch(t, "tcore slow");
		CHECKF(t->child[0], "launch slow failed");
		/* Keep the child busy so the backlog builds up whatever the load. */
		skynet_send(t->ctx, 0, t->child[0], PTYPE_TEXT, 0, "block", 5);
		for (int i = 0; i < 3000; i++)
			skynet_send(t->ctx, 0, t->child[0], PTYPE_TEXT, 0, "x", 1);
		skynet_send(t->ctx, 0, t->child[0], PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "last", 4);
		t->step = 1;
		return 0;
	}
	CHECKF(type == PTYPE_RESPONSE, "unexpected type %d", type);
	pass(t);
	return 0;
}

static int mode_endless(struct tcore *t, int type, int session)
{
	if (t->step == 0) {
		t->child[0] = launch(t, "tcore spin");
		CHECKF(t->child[0], "launch spin failed");
		skynet_send(t->ctx, 0, t->child[0], PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "go", 2);
		t->step = 1;
		return 0;
	}
	return -1; /* handled in cb: needs the payload */
}

static int mode_drop(struct tcore *t, int type, int session)
{
	if (t->step == 0) {
		/* Requests queued to a service that dies get PTYPE_ERROR back. */
		t->child[0] = launch(t, "tcore slow 100000"); /* 100 ms per message */
		CHECKF(t->child[0], "launch slow failed");
		t->expect = 10;
		for (int i = 0; i < t->expect; i++)
			skynet_send(t->ctx, 0, t->child[0], PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "x", 1);
		char kill[16];
		snprintf(kill, sizeof(kill), ":%x", t->child[0]);
		skynet_command(t->ctx, "KILL", kill);
		t->step = 1;
		return 0;
	}
	if (type == PTYPE_RESPONSE)
		t->responses++;
	else if (type == PTYPE_ERROR && session != 0)
		t->errors++;
	if (t->responses + t->errors == t->expect) {
		CHECKF(t->errors >= t->expect - 2, "only %d errors, %d responses", t->errors, t->responses);
		pass(t);
	}
	return 0;
}

static int mode_commands(struct tcore *t)
{
	char buf[64];
	const char *r;
	struct skynet_context *ctx = t->ctx;

	r = skynet_command(ctx, "REG", NULL);
	snprintf(buf, sizeof(buf), ":%x", t->self);
	CHECKF(r && strcmp(r, buf) == 0, "REG returned %s, want %s", r ? r : "NULL", buf);
	r = skynet_command(ctx, "REG", ".tcore_name");
	CHECKF(r && strcmp(r, "tcore_name") == 0, "REG .name returned %s", r ? r : "NULL");
	r = skynet_command(ctx, "REG", ".tcore_name");
	CHECKF(r == NULL, "REG of a taken name must fail");
	r = skynet_command(ctx, "REG", "GLOBAL");
	CHECKF(r == NULL, "REG of a global name must fail in C");
	r = skynet_command(ctx, "QUERY", ".tcore_name");
	CHECKF(r && strcmp(r, buf) == 0, "QUERY returned %s", r ? r : "NULL");
	r = skynet_command(ctx, "QUERY", ".nobody");
	CHECKF(r == NULL, "QUERY of a missing name must be NULL");
	CHECKF(skynet_queryname(ctx, ".tcore_name") == t->self, "skynet_queryname .name");
	CHECKF(skynet_queryname(ctx, buf) == t->self, "skynet_queryname :hex");

	uint32_t child = launch(t, "tcore idle");
	r = skynet_command(ctx, "LAUNCH", "tcore idle");
	CHECKF(r && strlen(r) == 9 && r[0] == ':', "LAUNCH format %s", r ? r : "NULL");
	for (int i = 1; i < 9; i++)
		CHECKF((r[i] >= '0' && r[i] <= '9') || (r[i] >= 'A' && r[i] <= 'F'),
		       "LAUNCH not uppercase hex: %s", r);
	uint32_t child2 = parse_handle(r);
	CHECKF(child && child2 && child != child2, "LAUNCH handles");
	CHECKF(skynet_command(ctx, "LAUNCH", "no_such_module") == NULL, "LAUNCH of a missing module");

	snprintf(buf, sizeof(buf), ".tcore_child :%x", child);
	r = skynet_command(ctx, "NAME", buf);
	CHECKF(r && strcmp(r, "tcore_child") == 0, "NAME returned %s", r ? r : "NULL");
	CHECKF(skynet_command(ctx, "NAME", "GLOBALX :1") == NULL, "NAME of a global name must fail in C");
	CHECKF(skynet_command(ctx, "NAME", ".x 12") == NULL, "NAME needs a :hex handle");

	CHECKF(skynet_command(ctx, "GETENV", "no_such_key") == NULL, "GETENV missing");
	skynet_command(ctx, "SETENV", "tcore_key some value");
	r = skynet_command(ctx, "GETENV", "tcore_key");
	CHECKF(r && strcmp(r, "some value") == 0, "SETENV/GETENV: %s", r ? r : "NULL");
	skynet_command(ctx, "SETENV", "tcore_key other");
	r = skynet_command(ctx, "GETENV", "tcore_key");
	CHECKF(r && strcmp(r, "some value") == 0, "env must be write-once: %s", r ? r : "NULL");
	r = skynet_command(ctx, "GETENV", "thread");
	CHECKF(r && atoi(r) >= 1, "thread default written back: %s", r ? r : "NULL");

	r = skynet_command(ctx, "STARTTIME", NULL);
	CHECKF(r && strtoul(r, NULL, 10) > 1600000000UL, "STARTTIME %s", r ? r : "NULL");
	r = skynet_command(ctx, "STAT", "mqlen");
	CHECKF(r && strcmp(r, "0") == 0, "STAT mqlen %s", r ? r : "NULL");
	r = skynet_command(ctx, "STAT", "endless");
	CHECKF(r && strcmp(r, "0") == 0, "STAT endless %s", r ? r : "NULL");
	r = skynet_command(ctx, "STAT", "message");
	CHECKF(r && atoi(r) >= 1, "STAT message %s", r ? r : "NULL");
	r = skynet_command(ctx, "STAT", "cpu");
	CHECKF(r && strchr(r, '.'), "STAT cpu %s", r ? r : "NULL");
	r = skynet_command(ctx, "STAT", "time");
	CHECKF(r && strchr(r, '.'), "STAT time %s", r ? r : "NULL");
	r = skynet_command(ctx, "STAT", "bogus");
	CHECKF(r && r[0] == '\0', "STAT other must be empty");
	CHECKF(skynet_command(ctx, "NO_SUCH_COMMAND", NULL) == NULL, "unknown command");
	r = skynet_command(ctx, "TIMEOUT", "10");
	CHECKF(r && atoi(r) > 0, "TIMEOUT returns a session: %s", r ? r : "NULL");

	/* LOGON/LOGOFF write <logpath>/<handle>.log */
	snprintf(buf, sizeof(buf), ":%x", child);
	skynet_command(ctx, "LOGON", buf);
	skynet_send(ctx, 0, child, PTYPE_TEXT, 0, "hello", 5);
	skynet_command(ctx, "LOGOFF", buf);

	/* SIGNAL reaches the module's _signal (tcore has none: must not crash). */
	skynet_command(ctx, "SIGNAL", buf);

	/* Send return values and the ownership rule on error paths (run under ASan
	 * or valgrind: a leak or double free fails the test). */
	CHECKF(skynet_send(ctx, 0, 0x00ffffff, PTYPE_TEXT, 0, "x", 1) == -1, "send to a missing handle");
	char *owned = skynet_malloc(8);
	memcpy(owned, "payload", 8);
	CHECKF(skynet_send(ctx, 0, 0x00ffffff, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, owned, 8) == -1,
	       "DONTCOPY send to a missing handle");
	owned = skynet_malloc(8);
	CHECKF(skynet_send(ctx, 0, 0, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, owned, 8) == -1,
	       "send to 0 with data");
	int s = skynet_send(ctx, 0, 0, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	CHECKF(s > 0, "send to 0 without data allocates a session: %d", s);
	owned = skynet_malloc(8);
	CHECKF(skynet_sendname(ctx, 0, ".missing", PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, owned, 8) == -1,
	       "sendname to a missing .name");
	CHECKF(skynet_sendname(ctx, 0, ".tcore_child", PTYPE_TEXT, 0, "y", 1) == 0, "sendname to .name");
	snprintf(buf, sizeof(buf), ":%x", child);
	CHECKF(skynet_sendname(ctx, 0, buf, PTYPE_TEXT, 0, "y", 1) == 0, "sendname to :hex");
	owned = skynet_malloc(8);
	CHECKF(skynet_send(ctx, 0, child, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, owned, ((size_t)1 << 56) + 8) ==
	               -2,
	       "too large");
	int harbor = -1;
	CHECKF(!skynet_isremote(ctx, t->self, &harbor) && harbor == 0, "self is local");
	CHECKF(skynet_isremote(ctx, 0x05000001, &harbor) && harbor == 5, "0x05000001 is remote");

	/* Remote handle and unknown global name on a single node: PTYPE_ERROR back. */
	t->expect = 2;
	skynet_send(ctx, 0, 0x05000001, PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "r", 1);
	skynet_sendname(ctx, 0, "NOBODY", PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "r", 1);
	/* A node-local global name delivers (the single-node harbor stand-in). */
	uint32_t echo = launch(t, "tcore echo");
	snprintf(buf, sizeof(buf), "ECHO :%x", echo);
	CHECKF(skynet_command(ctx, "HARBORNAME", buf) != NULL, "HARBORNAME bind");
	CHECKF(skynet_command(ctx, "HARBORNAME", buf) == NULL, "HARBORNAME first binding wins");
	skynet_sendname(ctx, 0, "ECHO", PTYPE_TEXT | PTYPE_TAG_ALLOCSESSION, 0, "global", 6);
	t->step = 1;
	return 0;
}

static int test_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                   const void *msg, size_t sz)
{
	struct tcore *t = ud;
	if (t->failed)
		return 0;
	int starting = (type == PTYPE_RESPONSE && session == t->kick && t->step == 0);
	if (!starting && t->step == 0)
		return 0;
	if (strcmp(t->mode, "timeout") == 0)
		return mode_timeout(t, type, session);
	if (strcmp(t->mode, "monitor") == 0)
		return mode_monitor(t, type, session, source);
	if (strcmp(t->mode, "overload") == 0)
		return mode_overload(t, type, session);
	if (strcmp(t->mode, "drop") == 0)
		return mode_drop(t, type, session);
	if (strcmp(t->mode, "endless") == 0) {
		if (mode_endless(t, type, session) == 0)
			return 0;
		CHECKF(type == PTYPE_RESPONSE && sz == 1 && ((const char *)msg)[0] == '1',
		       "endless flag not set (type %d)", type);
		pass(t);
		return 0;
	}
	if (strcmp(t->mode, "commands") == 0) {
		if (t->step == 0)
			return mode_commands(t);
		if (type == PTYPE_ERROR) {
			t->errors++;
		} else if (type == PTYPE_RESPONSE && source != 0) {
			CHECKF(sz == 6 && memcmp(msg, "global", 6) == 0, "echo via global name");
			t->responses++;
		}
		if (t->errors == 2 && t->responses == 1)
			pass(t);
		return 0;
	}
	fail(t, "unknown mode", __LINE__);
	return 0;
}

int tcore_init(struct tcore *t, struct skynet_context *ctx, const char *parm)
{
	t->ctx = ctx;
	if (parm)
		sscanf(parm, "%31s %d", t->mode, &t->step);
	t->self = parse_handle(skynet_command(ctx, "REG", NULL));
	int helper = strcmp(t->mode, "idle") == 0 || strcmp(t->mode, "slow") == 0 ||
	             strcmp(t->mode, "spin") == 0 || strcmp(t->mode, "exitself") == 0 ||
	             strcmp(t->mode, "echo") == 0;
	if (strcmp(t->mode, "fail") == 0)
		return 1; /* init failure path */
	if (helper) {
		skynet_callback(ctx, t, child_cb);
		if (strcmp(t->mode, "exitself") == 0)
			t->kick = (int)strtol(skynet_command(ctx, "TIMEOUT", "5"), NULL, 10);
		return 0;
	}
	t->step = 0;
	skynet_callback(ctx, t, test_cb);
	t->kick = (int)strtol(skynet_command(ctx, "TIMEOUT", "0"), NULL, 10);
	return 0;
}
