/*
 * skynet_mq.c — per-service message queues and the global queue.
 *
 * Scheduling invariant (in_global):
 *   in_global == 1  <=>  the queue is linked in the global queue, OR a worker is
 *                        currently dispatching it (it was popped from the global
 *                        queue and not yet found empty).
 *   in_global == 0  <=>  the queue is empty and nobody is dispatching it.
 * So a queue is in the global list at most once, and exactly one worker at a time
 * dispatches a service. push() links the queue when it goes 0 -> 1; pop() clears
 * the flag when it finds the queue empty, so the next push reschedules it. A new
 * queue starts at 1 so nothing dispatches it before its service's init returns;
 * skynet_context_new links it after a successful init.
 *
 * Lock order: a queue's lock may be held while taking the global lock (push),
 * never the reverse.
 */
#include "skynet_mq.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#include "skynet.h"
#include "spinlock.h"

/* A new queue holds 16 messages (384 bytes) and doubles when full: most services
 * (one idle agent per player) never hold more, and 64 cost 1.1 KiB more each. */
#define DEFAULT_QUEUE_SIZE 16
#define MQ_IN_GLOBAL 1
#define MQ_OVERLOAD 1024

struct message_queue {
	struct spinlock lock;
	uint32_t handle;
	int cap;
	int head;
	int tail;
	int release;
	int in_global;
	int overload;
	int overload_threshold;
	struct skynet_message *queue;
	struct message_queue *next;
};

struct global_queue {
	struct message_queue *head;
	struct message_queue *tail;
	struct spinlock lock;
};

static struct global_queue *Q = NULL;

void skynet_globalmq_push(struct message_queue *queue)
{
	struct global_queue *q = Q;

	spinlock_lock(&q->lock);
	assert(queue->next == NULL);
	if (q->tail) {
		q->tail->next = queue;
		q->tail = queue;
	} else {
		/* head is also read without the lock (skynet_globalmq_empty) */
		__atomic_store_n(&q->head, queue, __ATOMIC_RELEASE);
		q->tail = queue;
	}
	spinlock_unlock(&q->lock);
}

bool skynet_globalmq_empty(void)
{
	return __atomic_load_n(&Q->head, __ATOMIC_ACQUIRE) == NULL;
}

struct message_queue *skynet_globalmq_pop(void)
{
	struct global_queue *q = Q;

	spinlock_lock(&q->lock);
	struct message_queue *mq = q->head;
	if (mq) {
		__atomic_store_n(&q->head, mq->next, __ATOMIC_RELAXED);
		if (q->head == NULL) {
			assert(mq == q->tail);
			q->tail = NULL;
		}
		mq->next = NULL;
	}
	spinlock_unlock(&q->lock);

	return mq;
}

struct message_queue *skynet_mq_create(uint32_t handle)
{
	struct message_queue *q = skynet_malloc(sizeof(*q));
	q->handle = handle;
	q->cap = DEFAULT_QUEUE_SIZE;
	q->head = 0;
	q->tail = 0;
	spinlock_init(&q->lock);
	/* See the invariant above: not schedulable until init succeeds. */
	q->in_global = MQ_IN_GLOBAL;
	q->release = 0;
	q->overload = 0;
	q->overload_threshold = MQ_OVERLOAD;
	q->queue = skynet_malloc(sizeof(struct skynet_message) * q->cap);
	q->next = NULL;

	return q;
}

static void mq_free(struct message_queue *q)
{
	assert(q->next == NULL);
	spinlock_destroy(&q->lock);
	skynet_free(q->queue);
	skynet_free(q);
}

uint32_t skynet_mq_handle(struct message_queue *q)
{
	return q->handle;
}

int skynet_mq_length(struct message_queue *q)
{
	int head, tail, cap;

	spinlock_lock(&q->lock);
	head = q->head;
	tail = q->tail;
	cap = q->cap;
	spinlock_unlock(&q->lock);

	if (head <= tail)
		return tail - head;
	return tail + cap - head;
}

int skynet_mq_overload(struct message_queue *q)
{
	if (q->overload) {
		int overload = q->overload;
		q->overload = 0; /* reading clears it: report each surge once */
		return overload;
	}
	return 0;
}

int skynet_mq_pop(struct message_queue *q, struct skynet_message *message)
{
	int ret = 1;
	spinlock_lock(&q->lock);

	if (q->head != q->tail) {
		*message = q->queue[q->head++];
		ret = 0;
		int head = q->head;
		int tail = q->tail;
		int cap = q->cap;

		if (head >= cap)
			q->head = head = 0;
		int length = tail - head;
		if (length < 0)
			length += cap;
		while (length > q->overload_threshold) {
			q->overload = length;
			q->overload_threshold *= 2;
		}
	} else {
		/* reset overload_threshold when queue is empty */
		q->overload_threshold = MQ_OVERLOAD;
	}

	if (ret)
		q->in_global = 0;

	spinlock_unlock(&q->lock);

	return ret;
}

static void expand_queue(struct message_queue *q)
{
	struct skynet_message *new_queue = skynet_malloc(sizeof(struct skynet_message) * q->cap * 2);
	for (int i = 0; i < q->cap; i++)
		new_queue[i] = q->queue[(q->head + i) % q->cap];
	q->head = 0;
	q->tail = q->cap;
	q->cap *= 2;

	skynet_free(q->queue);
	q->queue = new_queue;
}

void skynet_mq_push(struct message_queue *q, struct skynet_message *message)
{
	assert(message);
	spinlock_lock(&q->lock);

	q->queue[q->tail] = *message;
	if (++q->tail >= q->cap)
		q->tail = 0;

	if (q->head == q->tail)
		expand_queue(q);

	if (q->in_global == 0) {
		q->in_global = MQ_IN_GLOBAL;
		skynet_globalmq_push(q);
	}

	spinlock_unlock(&q->lock);
}

void skynet_mq_init(void)
{
	struct global_queue *q = skynet_calloc(1, sizeof(*q));
	spinlock_init(&q->lock);
	Q = q;
}

void skynet_mq_exit(void)
{
	if (Q) {
		/* Every service is gone by now; queues still linked were released. */
		skynet_free(Q);
		Q = NULL;
	}
}

void skynet_mq_mark_release(struct message_queue *q)
{
	spinlock_lock(&q->lock);
	assert(q->release == 0);
	q->release = 1;
	/* Make sure some worker sees the queue so it gets freed. */
	if (q->in_global != MQ_IN_GLOBAL)
		skynet_globalmq_push(q);
	spinlock_unlock(&q->lock);
}

static void drop_queue(struct message_queue *q, message_drop drop_func, void *ud)
{
	struct skynet_message msg;
	while (!skynet_mq_pop(q, &msg))
		drop_func(&msg, ud);
	mq_free(q);
}

int skynet_mq_try_free(struct message_queue *q, message_drop drop_func, void *ud)
{
	spinlock_lock(&q->lock);
	int released = q->release;
	spinlock_unlock(&q->lock);
	if (released)
		drop_queue(q, drop_func, ud);
	return released;
}

int skynet_mq_release(struct message_queue *q, message_drop drop_func, void *ud)
{
	spinlock_lock(&q->lock);

	if (q->release) {
		spinlock_unlock(&q->lock);
		drop_queue(q, drop_func, ud);
		return 1;
	}
	/* Handle retired but context not yet freed: try again later. */
	skynet_globalmq_push(q);
	spinlock_unlock(&q->lock);
	return 0;
}
