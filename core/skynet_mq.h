/*
 * skynet_mq.h — per-service message queues and the global queue of queues.
 */
#ifndef SKYNET_MESSAGE_QUEUE_H
#define SKYNET_MESSAGE_QUEUE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct skynet_message {
	uint32_t source;
	int session;
	void *data;
	size_t sz; /* low bits: payload size; high 8 bits: message type */
};

/* type is encoded in skynet_message.sz high 8 bits */
#define MESSAGE_TYPE_MASK (SIZE_MAX >> 8)
#define MESSAGE_TYPE_SHIFT ((sizeof(size_t) - 1) * 8)

struct message_queue;

void skynet_globalmq_push(struct message_queue *queue);
struct message_queue *skynet_globalmq_pop(void);
/* A hint without the lock: true if no queue is waiting (may be stale at once). */
bool skynet_globalmq_empty(void);

struct message_queue *skynet_mq_create(uint32_t handle);
void skynet_mq_mark_release(struct message_queue *q);

typedef void (*message_drop)(struct skynet_message *, void *);

/* Frees a released queue (dropping what is left) and returns 1; otherwise
 * pushes it back to the global queue and returns 0. */
int skynet_mq_release(struct message_queue *q, message_drop drop_func, void *ud);
/* Shutdown only (no workers): free a released queue and return 1; otherwise
 * return 0 and leave it unlinked (the caller now "dispatches" it). */
int skynet_mq_try_free(struct message_queue *q, message_drop drop_func, void *ud);
uint32_t skynet_mq_handle(struct message_queue *);

/* 0 for success */
int skynet_mq_pop(struct message_queue *q, struct skynet_message *message);
void skynet_mq_push(struct message_queue *q, struct skynet_message *message);

/* return the length of message queue, for debug */
int skynet_mq_length(struct message_queue *q);
int skynet_mq_overload(struct message_queue *q);

void skynet_mq_init(void);
void skynet_mq_exit(void);

#endif
