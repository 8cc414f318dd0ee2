/*
 * scheduler.c — the outgoing scheduler of one cluster link (see scheduler.h
 * for the rules and invariants).
 *
 * Representation: `queues` maps a source to its FIFO (struct squeue); every
 * queue in the map holds at least one message and is on the active ring
 * (act_head .. act_tail) exactly once.  A queue that empties leaves both.
 * The FIFO is a list threaded through the messages (sched_msg.next), so
 * queueing a message never allocates.
 */
#include "scheduler.h"

#include <stdlib.h>

#include "skynet_hashmap.h"

struct squeue {
	uint32_t source;
	struct sched_msg *head, *tail;
	struct squeue *next_active;
};

struct sched {
	struct sched_limits lim;
	const struct sched_ops *ops;
	void *ud;
	bool open; /* established and no emit failed */
	bool failed;
	size_t inflight, started;
	uint32_t next_id;
	struct skynet_u64map *queues; /* source -> struct squeue * */
	struct squeue *act_head, *act_tail;
};

enum step { STEP_DONE, STEP_SENT, STEP_WINDOW, STEP_PENDING, STEP_FAILED };

struct sched *sched_new(const struct sched_limits *lim, const struct sched_ops *ops, void *ud)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->lim = *lim;
	s->ops = ops;
	s->ud = ud;
	s->queues = skynet_u64map_new();
	if (s->queues == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static struct squeue *queue_of(const struct sched *s, uint32_t source)
{
	uint64_t v;
	return skynet_u64map_get(s->queues, source, &v) ? (struct squeue *)(uintptr_t)v : NULL;
}

/* Every queued message is on the ring, in its queue's order. */
void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	s->open = false;
	while (s->act_head) {
		struct squeue *q = s->act_head;
		s->act_head = q->next_active;
		struct sched_msg *m = q->head;
		while (m) {
			struct sched_msg *nx = m->next;
			s->ops->release(s->ud, m, false);
			m = nx;
		}
		free(q);
	}
	skynet_u64map_free(s->queues);
	free(s);
}

/* Emits the next frame of m, if the window and the pending bound allow. */
static enum step step(struct sched *s, struct sched_msg *m)
{
	size_t part = s->lim.part;
	if (m->size <= part) {
		if (s->ops->emit(s->ud, m, 0, m->size) != 0)
			return STEP_FAILED;
		m->sent = m->size;
		return STEP_DONE;
	}
	if (s->inflight >= s->lim.window)
		return STEP_WINDOW;
	size_t chunk = m->size - m->sent < part ? m->size - m->sent : part;
	if (m->id == 0) {
		if (s->started + m->size > s->lim.max_pending)
			return STEP_PENDING;
		do {
			m->id = ++s->next_id;
		} while (m->id == 0);
		if (s->ops->emit(s->ud, m, 0, chunk) != 0) {
			m->id = 0;
			return STEP_FAILED;
		}
		s->started += m->size;
	} else if (s->ops->emit(s->ud, m, m->sent, chunk) != 0) {
		return STEP_FAILED;
	}
	m->sent += chunk;
	s->inflight += chunk;
	if (m->sent < m->size)
		return STEP_SENT;
	s->started -= m->size;
	return STEP_DONE;
}

static void ring_push(struct sched *s, struct squeue *q)
{
	q->next_active = NULL;
	if (s->act_tail)
		s->act_tail->next_active = q;
	else
		s->act_head = q;
	s->act_tail = q;
}

static struct squeue *ring_pop(struct sched *s)
{
	struct squeue *q = s->act_head;
	s->act_head = q->next_active;
	if (s->act_head == NULL)
		s->act_tail = NULL;
	q->next_active = NULL;
	return q;
}

/* Serves the queues round-robin until every head is blocked (or an emit
 * failed), then puts the first queue the window blocked at the front. */
static void pump(struct sched *s)
{
	struct squeue *first_blocked = NULL;
	bool progress = true;
	while (progress && s->act_head && s->open) {
		progress = false;
		struct squeue *end = s->act_tail;
		for (;;) {
			struct squeue *q = ring_pop(s);
			enum step r = step(s, q->head);
			if (r == STEP_FAILED) {
				s->open = false;
				s->failed = true;
			} else if (r == STEP_SENT || r == STEP_DONE) {
				progress = true;
			} else if (r == STEP_WINDOW && first_blocked == NULL) {
				first_blocked = q;
			}
			if (r == STEP_DONE) {
				struct sched_msg *m = q->head;
				q->head = m->next;
				if (q->head == NULL)
					q->tail = NULL;
				s->ops->release(s->ud, m, true);
			}
			bool last = q == end;
			if (q->head) {
				ring_push(s, q);
			} else {
				skynet_u64map_del(s->queues, q->source, NULL);
				free(q);
			}
			if (last || s->act_head == NULL || !s->open)
				break;
		}
	}
	/* first_blocked still has work (it was blocked), so it is on the ring and
	 * the walk stops there; the act_head test only spells that out */
	if (first_blocked && s->open)
		while (s->act_head && s->act_head != first_blocked)
			ring_push(s, ring_pop(s));
}

void sched_open(struct sched *s)
{
	if (s->failed)
		return;
	s->open = true;
	pump(s);
}

int sched_enqueue(struct sched *s, uint32_t source, struct sched_msg *m)
{
	m->next = NULL;
	m->sent = 0;
	m->id = 0;
	struct squeue *q = skynet_u64map_count(s->queues) ? queue_of(s, source) : NULL;
	if (q == NULL && s->open && m->size <= s->lim.part) {
		if (step(s, m) == STEP_FAILED) {
			s->open = false;
			s->failed = true;
			s->ops->release(s->ud, m, false);
		} else {
			s->ops->release(s->ud, m, true);
		}
		return 0;
	}
	if (q == NULL) {
		q = calloc(1, sizeof(*q));
		if (q == NULL || skynet_u64map_put(s->queues, source, (uintptr_t)q) != 0) {
			free(q);
			return -1;
		}
		q->source = source;
		ring_push(s, q);
	}
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	if (s->open)
		pump(s);
	return 0;
}

int sched_ack(struct sched *s, uint64_t bytes)
{
	if (bytes > s->inflight)
		return -1;
	s->inflight -= (size_t)bytes;
	if (s->open)
		pump(s);
	return 0;
}

bool sched_idle(const struct sched *s)
{
	return skynet_u64map_count(s->queues) == 0;
}

size_t sched_inflight(const struct sched *s)
{
	return s->inflight;
}

size_t sched_started(const struct sched *s)
{
	return s->started;
}
