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
 */
#include "skynet_timer.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	/* Runtime clock (only for the global wheel). */
	uint32_t starttime;
	_Atomic uint64_t current; /* written by the timer thread, read anywhere */
	uint64_t current_point;
};

static struct timer *TI = NULL;

static inline struct timer_node *link_clear(struct link_list *list)
{
	struct timer_node *ret = list->head.next;
	list->head.next = 0;
	list->tail = &(list->head);
	return ret;
}

static inline void link(struct link_list *list, struct timer_node *node)
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
		link(&T->near[time & TIME_NEAR_MASK], node);
	} else {
		int i;
		uint32_t mask = TIME_NEAR << TIME_LEVEL_SHIFT;
		for (i = 0; i < 3; i++) {
			if ((time | (mask - 1)) == (current_time | (mask - 1)))
				break;
			mask <<= TIME_LEVEL_SHIFT;
		}
		link(&T->t[i][((time >> (TIME_NEAR_SHIFT + i * TIME_LEVEL_SHIFT)) & TIME_LEVEL_MASK)], node);
	}
}

void timer_add_event(struct timer *T, uint32_t handle, int session, int time)
{
	struct timer_node *node = skynet_malloc(sizeof(*node));
	node->handle = handle;
	node->session = session;

	spinlock_lock(&T->lock);
	node->expire = time + T->time;
	add_node(T, node);
	spinlock_unlock(&T->lock);
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
	r->current = 0;
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
		timer_add_event(TI, handle, session, time);
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
	uint64_t cp = gettime();
	if (cp < TI->current_point) {
		skynet_error(NULL, "time diff error: change from %lld to %lld", (long long)cp,
		             (long long)TI->current_point);
		TI->current_point = cp;
	} else if (cp != TI->current_point) {
		uint32_t diff = (uint32_t)(cp - TI->current_point);
		TI->current_point = cp;
		atomic_fetch_add_explicit(&TI->current, diff, memory_order_relaxed);
		for (uint32_t i = 0; i < diff; i++)
			timer_tick(TI, fire_message, NULL);
	}
}

uint32_t skynet_starttime(void)
{
	return TI->starttime;
}

uint64_t skynet_now(void)
{
	return TI ? atomic_load_explicit(&TI->current, memory_order_relaxed) : 0;
}

void skynet_timer_init(void)
{
	TI = timer_create_wheel(0);
	uint32_t current = 0;
	systime(&TI->starttime, &current);
	/* now() starts at the boot wall-clock centisecond so that
	 * starttime + now/100 is the accurate wall time. */
	TI->current = current;
	TI->current_point = gettime();
}

void skynet_timer_exit(void)
{
	timer_destroy_wheel(TI);
	TI = NULL;
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
