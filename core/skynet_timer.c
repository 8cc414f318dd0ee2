/*
 * skynet_timer.c — a hierarchical timing wheel in centisecond ticks.
 *
 * The 32-bit tick counter `time` is split into a near wheel of 256 slots (low 8
 * bits) and four levels of 64 slots (6 bits each). A timer expiring at tick e is
 * kept in the near slot e & 255 when e and time agree on every bit above the low
 * 8; otherwise on the lowest level i whose higher bits agree. When the low bits
 * of `time` roll over, the matching slot of the next level is moved down
 * ("cascaded") and re-inserted relative to the new time. Invariant: after
 * timer_tick, every event left in the wheel expires strictly after `time`, and an
 * event is fired exactly on the tick it is due (never early, never skipped, also
 * across the 32-bit wrap).
 *
 * Events fire with the wheel lock released, so delivering a message (which may
 * take other locks) never nests inside it.
 *
 * The node's clock is CLOCK_MONOTONIC in centiseconds: tick t of the global
 * wheel is the centisecond `point0 + t`, and skynet_now() reads the clock
 * itself, so neither depends on how often the timer thread runs.  The timer
 * thread may therefore sleep until the next tick that has work (an event due,
 * or a cascade), and a timeout is placed at its absolute tick even while the
 * wheel lags behind the clock (its expiry is still after `time`, so the wheel
 * files it correctly and fires it when it catches up).  Whoever adds an event
 * earlier than the tick the sleeping timer thread will wake at rings it
 * (skynet_timer_ring): `wake_at` is published under the wheel lock by the scan
 * that chose it, so an insert either is seen by that scan or sees wake_at.
 */
#include "skynet_timer.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "skynet.h"
#include "skynet_mq.h"
#include "skynet_server.h"
#include "skynet_metrics.h"
#include "spinlock.h"

#define TIME_NEAR_SHIFT 8
#define TIME_NEAR (1 << TIME_NEAR_SHIFT)
#define TIME_LEVEL_SHIFT 6
#define TIME_LEVEL (1 << TIME_LEVEL_SHIFT)
#define TIME_NEAR_MASK (TIME_NEAR - 1)
#define TIME_LEVEL_MASK (TIME_LEVEL - 1)

struct timer_node {
	struct timer_node *next;
	uint32_t expire;
	uint32_t handle;
	int session;
};

struct link_list {
	struct timer_node head;
	struct timer_node *tail;
};

struct timer {
	struct link_list near[TIME_NEAR];
	struct link_list t[4][TIME_LEVEL];
	struct spinlock lock;
	uint32_t time;
	/* Runtime clock (only for the global wheel); constant after init. */
	uint32_t starttime; /* wall-clock second at boot */
	uint64_t now0;      /* skynet_now() at boot: the boot second's centisecond */
	uint64_t point0;    /* monotonic centisecond of tick 0 */
	/* Tick the sleeping timer thread will wake at, 0 while it is awake;
	 * written under `lock`. */
	_Atomic uint32_t wake_at;
	int bell; /* eventfd the timer thread sleeps on */
};

static struct timer *TI = NULL;

static inline struct timer_node *link_clear(struct link_list *list)
{
	struct timer_node *ret = list->head.next;
	list->head.next = 0;
	list->tail = &(list->head);
	return ret;
}

static inline void link_append(struct link_list *list, struct timer_node *node)
{
	list->tail->next = node;
	list->tail = node;
	node->next = 0;
}

static void add_node(struct timer *T, struct timer_node *node)
{
	uint32_t time = node->expire;
	uint32_t current_time = T->time;

	if ((time | TIME_NEAR_MASK) == (current_time | TIME_NEAR_MASK)) {
		link_append(&T->near[time & TIME_NEAR_MASK], node);
	} else {
		int i;
		uint32_t mask = TIME_NEAR << TIME_LEVEL_SHIFT;
		for (i = 0; i < 3; i++) {
			if ((time | (mask - 1)) == (current_time | (mask - 1)))
				break;
			mask <<= TIME_LEVEL_SHIFT;
		}
		link_append(&T->t[i][((time >> (TIME_NEAR_SHIFT + i * TIME_LEVEL_SHIFT)) & TIME_LEVEL_MASK)],
		            node);
	}
}

/* `relative`: expire counts from the wheel's tick, else it is absolute (and
 * after the wheel's tick).  Returns the expiry tick. */
static uint32_t add_event(struct timer *T, uint32_t handle, int session, uint32_t expire, bool relative)
{
	struct timer_node *node = skynet_malloc(sizeof(*node));
	node->handle = handle;
	node->session = session;

	spinlock_lock(&T->lock);
	node->expire = relative ? expire + T->time : expire;
	add_node(T, node);
	spinlock_unlock(&T->lock);
	return node->expire;
}

void timer_add_event(struct timer *T, uint32_t handle, int session, int time)
{
	add_event(T, handle, session, (uint32_t)time, true);
}

/* Lock held. */
static uint32_t next_work(struct timer *T, uint32_t limit)
{
	uint32_t d = 1;
	for (; d < limit; d++) {
		uint32_t t = T->time + d;
		/* a cascade at t may bring events into the near wheel */
		if ((t & TIME_NEAR_MASK) == 0 || T->near[t & TIME_NEAR_MASK].head.next)
			break;
	}
	return d;
}

uint32_t timer_next_work(struct timer *T, uint32_t limit)
{
	spinlock_lock(&T->lock);
	uint32_t d = next_work(T, limit);
	spinlock_unlock(&T->lock);
	return d;
}

static void move_list(struct timer *T, int level, int idx)
{
	struct timer_node *current = link_clear(&T->t[level][idx]);
	while (current) {
		struct timer_node *temp = current->next;
		add_node(T, current);
		current = temp;
	}
}

static void timer_shift(struct timer *T)
{
	int mask = TIME_NEAR;
	uint32_t ct = ++T->time;
	if (ct == 0) {
		/* 32-bit wrap: everything parked in level 3 slot 0 is due again. */
		move_list(T, 3, 0);
	} else {
		uint32_t time = ct >> TIME_NEAR_SHIFT;
		int i = 0;

		while ((ct & (mask - 1)) == 0) {
			int idx = time & TIME_LEVEL_MASK;
			if (idx != 0) {
				move_list(T, i, idx);
				break;
			}
			// NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign): ct != 0 breaks out by level 3, before mask reaches 1 << 32
			mask <<= TIME_LEVEL_SHIFT;
			time >>= TIME_LEVEL_SHIFT;
			++i;
		}
	}
}

static void dispatch_list(struct timer_node *current, timer_fire_fn fire, void *ud)
{
	while (current) {
		fire(ud, current->handle, current->session);
		struct timer_node *temp = current;
		current = current->next;
		skynet_free(temp);
	}
}

static inline void timer_execute(struct timer *T, timer_fire_fn fire, void *ud)
{
	int idx = T->time & TIME_NEAR_MASK;

	while (T->near[idx].head.next) {
		struct timer_node *current = link_clear(&T->near[idx]);
		spinlock_unlock(&T->lock);
		dispatch_list(current, fire, ud);
		spinlock_lock(&T->lock);
	}
}

void timer_tick(struct timer *T, timer_fire_fn fire, void *ud)
{
	spinlock_lock(&T->lock);

	/* try to dispatch timeout 0 (rare condition) */
	timer_execute(T, fire, ud);
	/* shift time first, and then dispatch timer message */
	timer_shift(T);
	timer_execute(T, fire, ud);

	spinlock_unlock(&T->lock);
}

uint32_t timer_current_tick(struct timer *T)
{
	return T->time;
}

struct timer *timer_create_wheel(uint32_t start_time)
{
	struct timer *r = skynet_calloc(1, sizeof(struct timer));
	for (int i = 0; i < TIME_NEAR; i++)
		link_clear(&r->near[i]);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < TIME_LEVEL; j++)
			link_clear(&r->t[i][j]);
	spinlock_init(&r->lock);
	r->time = start_time;
	r->bell = -1;
	return r;
}

static void free_list(struct link_list *list)
{
	struct timer_node *n = link_clear(list);
	while (n) {
		struct timer_node *next = n->next;
		skynet_free(n);
		n = next;
	}
}

void timer_destroy_wheel(struct timer *T)
{
	if (T == NULL)
		return;
	for (int i = 0; i < TIME_NEAR; i++)
		free_list(&T->near[i]);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < TIME_LEVEL; j++)
			free_list(&T->t[i][j]);
	skynet_free(T);
}

/* Deliver a timer expiry: PTYPE_RESPONSE, source 0, no payload. A handle that
 * no longer exists just drops the event. */
static void fire_message(void *ud, uint32_t handle, int session)
{
	(void)ud;
	skynet_metrics_timer_event();
	struct skynet_message message;
	message.source = 0;
	message.session = session;
	message.data = NULL;
	message.sz = (size_t)PTYPE_RESPONSE << MESSAGE_TYPE_SHIFT;
	skynet_context_push(handle, &message);
}

static uint64_t gettime(void);

/* The global wheel's tick for the clock now: never behind T->time. */
static uint32_t clock_tick(void)
{
	return (uint32_t)(gettime() - TI->point0);
}

int skynet_timeout(uint32_t handle, int time, int session)
{
	if (time <= 0) {
		struct skynet_message message;
		message.source = 0;
		message.session = session;
		message.data = NULL;
		message.sz = (size_t)PTYPE_RESPONSE << MESSAGE_TYPE_SHIFT;

		if (skynet_context_push(handle, &message))
			return -1;
	} else {
		/* Counted from the clock, not from the wheel, which lags behind it
		 * while the timer thread sleeps. */
		uint32_t expire = add_event(TI, handle, session, clock_tick() + (uint32_t)time, false);
		uint32_t wake = atomic_load(&TI->wake_at);
		if (wake != 0 && (int32_t)(expire - wake) < 0)
			skynet_timer_ring();
	}

	return session;
}

/* centisecond: 1/100 second */
static void systime(uint32_t *sec, uint32_t *cs)
{
	struct timespec ti;
	clock_gettime(CLOCK_REALTIME, &ti);
	*sec = (uint32_t)ti.tv_sec;
	*cs = (uint32_t)(ti.tv_nsec / 10000000);
}

static uint64_t gettime(void)
{
	uint64_t t;
	struct timespec ti;
	clock_gettime(CLOCK_MONOTONIC, &ti);
	t = (uint64_t)ti.tv_sec * 100;
	t += ti.tv_nsec / 10000000;
	return t;
}

void skynet_updatetime(void)
{
	/* CLOCK_MONOTONIC never goes back: the wheel only moves forward. */
	uint32_t target = clock_tick();
	while (TI->time != target)
		timer_tick(TI, fire_message, NULL);
}

/* The timer thread sleeps at most this many ticks even with nothing due. */
#define DEEP_SLEEP_TICKS 256

int skynet_timer_plan(void)
{
	/* One critical section: an insert before it is seen by the scan, one
	 * after it sees wake_at. */
	spinlock_lock(&TI->lock);
	uint32_t d = next_work(TI, DEEP_SLEEP_TICKS);
	uint32_t wake = TI->time + d;
	atomic_store(&TI->wake_at, wake == 0 ? 1 : wake); /* 0 means awake */
	spinlock_unlock(&TI->lock);
	/* From now to the start of tick TI->time + d, rounded up to a ms. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	uint64_t due_ms = (TI->point0 + TI->time + d) * 10;
	return due_ms > now_ms ? (int)(due_ms - now_ms) : 0;
}

void skynet_timer_sleep(int ms)
{
	struct pollfd p = { .fd = TI->bell, .events = POLLIN };
	if (ms > 0 && poll(&p, 1, ms) > 0) {
		uint64_t n;
		ssize_t r = read(TI->bell, &n, sizeof(n));
		(void)r;
	}
	atomic_store(&TI->wake_at, 0);
}

bool skynet_timer_sleeping(void)
{
	return TI && atomic_load(&TI->wake_at) != 0;
}

void skynet_timer_ring(void)
{
	/* async-signal-safe: one write to an eventfd, errno preserved */
	if (TI == NULL || TI->bell < 0)
		return;
	int saved = errno;
	uint64_t one = 1;
	ssize_t r = write(TI->bell, &one, sizeof(one));
	(void)r;
	errno = saved;
}

uint32_t skynet_starttime(void)
{
	return TI->starttime;
}

uint64_t skynet_now(void)
{
	return TI ? TI->now0 + (gettime() - TI->point0) : 0;
}

void skynet_timer_init(void)
{
	struct timer *T = timer_create_wheel(0);
	uint32_t current = 0;
	systime(&T->starttime, &current);
	/* now() starts at the boot wall-clock centisecond so that
	 * starttime + now/100 is the accurate wall time. */
	T->now0 = current;
	T->point0 = gettime();
	T->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (T->bell < 0) {
		fprintf(stderr, "skiff: timer: eventfd: %s\n", strerror(errno));
		exit(1);
	}
	TI = T;
}

void skynet_timer_exit(void)
{
	struct timer *T = TI;
	TI = NULL;
	if (T && T->bell >= 0)
		close(T->bell);
	timer_destroy_wheel(T);
}

/* for profile */
#define NANOSEC 1000000000
#define MICROSEC 1000000

uint64_t skynet_thread_time(void)
{
	struct timespec ti;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ti);
	return (uint64_t)ti.tv_sec * MICROSEC + (uint64_t)ti.tv_nsec / (NANOSEC / MICROSEC);
}
