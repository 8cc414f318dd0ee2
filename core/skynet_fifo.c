/*
 * skynet_fifo.c — ring-buffer FIFO (API in skynet_fifo.h).
 *
 * Invariants: cap is 0 or a power of two; the n elements live at slots
 * head, head+1, ... (mod cap); growing copies them to the start of the new
 * ring in order, so FIFO order survives any number of resizes.
 */
#include "skynet_fifo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP 8
#define KEEP_CAP 64 /* an emptied ring up to this many slots keeps its memory */

struct skynet_fifo {
	unsigned char *ring;
	size_t elem, cap, head, n;
};

struct skynet_fifo *skynet_fifo_new(size_t elem_size)
{
	if (elem_size == 0)
		return NULL;
	struct skynet_fifo *q = calloc(1, sizeof(*q));
	if (q)
		q->elem = elem_size;
	return q;
}

void skynet_fifo_free(struct skynet_fifo *q)
{
	if (q) {
		free(q->ring);
		free(q);
	}
}

size_t skynet_fifo_count(const struct skynet_fifo *q)
{
	return q->n;
}

static int grow(struct skynet_fifo *q)
{
	size_t cap = q->cap ? q->cap * 2 : MIN_CAP;
	if (cap > SIZE_MAX / q->elem)
		return -1;
	unsigned char *ring = malloc(cap * q->elem);
	if (ring == NULL)
		return -1;
	/* the elements in order: head..end of the old ring, then its start */
	size_t first = q->cap - q->head < q->n ? q->cap - q->head : q->n;
	if (q->n) {
		memcpy(ring, q->ring + q->head * q->elem, first * q->elem);
		memcpy(ring + first * q->elem, q->ring, (q->n - first) * q->elem);
	}
	free(q->ring);
	q->ring = ring;
	q->cap = cap;
	q->head = 0;
	return 0;
}

int skynet_fifo_push(struct skynet_fifo *q, const void *elem)
{
	if (q->n == q->cap && grow(q) != 0)
		return -1;
	size_t tail = (q->head + q->n) & (q->cap - 1);
	memcpy(q->ring + tail * q->elem, elem, q->elem);
	q->n++;
	return 0;
}

bool skynet_fifo_pop(struct skynet_fifo *q, void *elem)
{
	if (q->n == 0)
		return false;
	memcpy(elem, q->ring + q->head * q->elem, q->elem);
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
	if (q->n == 0) {
		q->head = 0;
		if (q->cap > KEEP_CAP) {
			free(q->ring);
			q->ring = NULL;
			q->cap = 0;
		}
	}
	return true;
}

void *skynet_fifo_peek(const struct skynet_fifo *q)
{
	return q->n ? q->ring + q->head * q->elem : NULL;
}
