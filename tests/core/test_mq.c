/*
 * test_mq.c — message queue invariants under concurrency.
 *
 * Producers push numbered messages into many service queues while consumer
 * threads play worker: pop a queue from the global queue, drain a batch, push
 * it back. Checks: every message delivered exactly once, per (producer, queue)
 * order preserved, and no queue ever dispatched by two consumers at once (the
 * in_global invariant).
 */
#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet_malloc.h"
#include "skynet_mq.h"

#define NQUEUE 16
#define NPRODUCER 4
#define NCONSUMER 3
#define PER_PRODUCER 200000

static struct message_queue *queues[NQUEUE];
static atomic_int busy[NQUEUE];
static int last_seen[NQUEUE][NPRODUCER];
static atomic_long delivered;
static atomic_int violations;
static atomic_int producers_done;

static void *producer(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = (unsigned)id * 7919u + 1;
	int next[NQUEUE];
	memset(next, 0, sizeof(next));
	for (int i = 0; i < PER_PRODUCER; i++) {
		seed = seed * 1103515245u + 12345u;
		int q = (int)((seed >> 16) % NQUEUE);
		struct skynet_message m;
		m.source = (uint32_t)id;
		m.session = ++next[q];
		m.data = NULL;
		m.sz = (size_t)q;
		skynet_mq_push(queues[q], &m);
	}
	atomic_fetch_add(&producers_done, 1);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		struct message_queue *q = skynet_globalmq_pop();
		if (q == NULL) {
			if (atomic_load(&producers_done) == NPRODUCER &&
			    atomic_load(&delivered) == (long)NPRODUCER * PER_PRODUCER)
				return NULL;
			continue;
		}
		int qi = (int)skynet_mq_handle(q);
		struct skynet_message m;
		int n = 0;
		int empty = 0;
		while (n < 8) {
			if (skynet_mq_pop(q, &m)) {
				empty = 1; /* in_global is now 0: we must not touch q again */
				break;
			}
			/* busy[qi] counts consumers holding a message of queue qi: the
			 * invariant says never more than one. (It is 0 again before the
			 * pop that may find the queue empty, so a consumer that takes
			 * the queue right after that pop is no violation.) */
			if (atomic_fetch_add(&busy[qi], 1) != 0)
				atomic_fetch_add(&violations, 1);
			n++;
			if ((int)m.sz != qi)
				atomic_fetch_add(&violations, 1);
			if (m.session != last_seen[qi][m.source] + 1)
				atomic_fetch_add(&violations, 1);
			last_seen[qi][m.source] = m.session;
			atomic_fetch_add(&delivered, 1);
			atomic_fetch_sub(&busy[qi], 1);
		}
		if (!empty)
			skynet_globalmq_push(q);
	}
}

static int dropped;

static void count_drop(struct skynet_message *m, void *ud)
{
	(void)m;
	(void)ud;
	dropped++;
}

int main(void)
{
	skynet_mq_init();
	for (int i = 0; i < NQUEUE; i++) {
		queues[i] = skynet_mq_create((uint32_t)i);
		/* A new queue is "in global" until its service is initialised. */
		skynet_globalmq_push(queues[i]);
	}
	pthread_t p[NPRODUCER], c[NCONSUMER];
	for (int i = 0; i < NCONSUMER; i++)
		pthread_create(&c[i], NULL, consumer, NULL);
	for (int i = 0; i < NPRODUCER; i++)
		pthread_create(&p[i], NULL, producer, (void *)(intptr_t)i);
	for (int i = 0; i < NPRODUCER; i++)
		pthread_join(p[i], NULL);
	for (int i = 0; i < NCONSUMER; i++)
		pthread_join(c[i], NULL);

	long got = atomic_load(&delivered);
	int bad = atomic_load(&violations);
	printf("delivered %ld of %d, violations %d\n", got, NPRODUCER * PER_PRODUCER, bad);
	if (got != (long)NPRODUCER * PER_PRODUCER || bad != 0)
		return 1;

	/* Empty queues: in_global is 0, so one push links the queue exactly once. */
	struct skynet_message m = { 1, 1, NULL, 0 };
	skynet_mq_push(queues[0], &m);
	skynet_mq_push(queues[0], &m);
	if (skynet_globalmq_pop() != queues[0] || skynet_globalmq_pop() != NULL) {
		printf("a queue was linked twice into the global queue\n");
		return 1;
	}
	if (skynet_mq_length(queues[0]) != 2) {
		printf("length %d, want 2\n", skynet_mq_length(queues[0]));
		return 1;
	}
	/* Growth past the initial capacity keeps FIFO order; overload is reported
	 * once the backlog passes 1024 and the threshold doubles. */
	for (int i = 0; i < 3000; i++) {
		struct skynet_message k = { 2, i, NULL, 0 };
		skynet_mq_push(queues[1], &k);
	}
	if (skynet_globalmq_pop() != queues[1]) {
		printf("queue 1 not scheduled\n");
		return 1;
	}
	struct skynet_message out;
	int expect = 0, overload_reports = 0;
	while (!skynet_mq_pop(queues[1], &out)) {
		if (out.session != expect++) {
			printf("order broken after growth\n");
			return 1;
		}
		if (skynet_mq_overload(queues[1]))
			overload_reports++;
	}
	if (expect != 3000 || overload_reports != 1) {
		printf("popped %d, overload reports %d (want 3000, 1)\n", expect, overload_reports);
		return 1;
	}
	while (!skynet_mq_pop(queues[0], &out))
		;
	for (int i = 0; i < NQUEUE; i++)
		skynet_mq_mark_release(queues[i]);
	struct message_queue *q;
	int freed = 0;
	while ((q = skynet_globalmq_pop()) != NULL) {
		skynet_mq_release(q, count_drop, NULL);
		freed++;
	}
	skynet_mq_exit();
	if (freed != NQUEUE || dropped != 0) {
		printf("released %d queues (want %d), dropped %d\n", freed, NQUEUE, dropped);
		return 1;
	}
	printf("OK\n");
	return 0;
}
