/*
 * skynet_fifo.h — a first-in first-out queue of fixed-size elements, stored by
 * copy in a ring that grows by doubling (so a push allocates only when the
 * ring is full, and a queue of small records costs no allocation per record).
 *
 * The element size is fixed at _new.  An emptied ring larger than a small
 * floor gives its memory back, so a queue that once held a burst does not keep
 * it.  Not thread-safe: one owner per queue.  Memory comes from malloc, so the
 * queue also works outside a node.
 */
#ifndef SKYNET_FIFO_H
#define SKYNET_FIFO_H

#include <stdbool.h>
#include <stddef.h>

struct skynet_fifo;

/* NULL when out of memory or elem_size is 0. */
struct skynet_fifo *skynet_fifo_new(size_t elem_size);
/* Frees the ring, not what elements point to (drain it first if they own memory). */
void skynet_fifo_free(struct skynet_fifo *q);
size_t skynet_fifo_count(const struct skynet_fifo *q);
/* Copies *elem to the tail; 0 on success, -1 when out of memory (nothing pushed). */
int skynet_fifo_push(struct skynet_fifo *q, const void *elem);
/* Copies the head to *elem and removes it; false if empty. */
bool skynet_fifo_pop(struct skynet_fifo *q, void *elem);
/* The head element in place, NULL if empty; valid until the next push or pop. */
void *skynet_fifo_peek(const struct skynet_fifo *q);

#endif
