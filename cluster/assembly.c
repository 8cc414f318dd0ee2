/*
 * assembly.c — multi-part reassembly of a cluster link (see assembly.h).
 *
 * A stored message gets its whole buffer at the first frame (total is known
 * then), so parts are copied once into place and the finished buffer is
 * handed on as it is.  max_pending is what makes that safe: the peer cannot
 * make us reserve more than it for unfinished messages, whatever totals it
 * announces.
 */
#include "assembly.h"

#include <stdlib.h>
#include <string.h>

#include "skynet_hashmap.h"

/* One unfinished message. */
struct partial {
	void *meta;
	uint8_t *buf; /* NULL: discarding (over max_message) */
	size_t headroom;
	uint64_t total, got;
};

struct assembly {
	struct skynet_u64map *parts; /* id -> struct partial * */
	size_t max_message, max_pending;
	size_t pending; /* sum of the stored partials' totals */
	void (*meta_free)(void *);
};

struct assembly *assembly_new(size_t max_message, size_t max_pending, void (*meta_free)(void *))
{
	struct assembly *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->parts = skynet_u64map_new();
	if (a->parts == NULL) {
		free(a);
		return NULL;
	}
	a->max_message = max_message;
	a->max_pending = max_pending;
	a->meta_free = meta_free;
	return a;
}

static struct partial *find(const struct assembly *a, uint32_t id)
{
	uint64_t v;
	return skynet_u64map_get(a->parts, id, &v) ? (struct partial *)(uintptr_t)v : NULL;
}

void assembly_free(struct assembly *a)
{
	if (a == NULL)
		return;
	size_t pos = 0;
	uint64_t id, v;
	while (skynet_u64map_next(a->parts, &pos, &id, &v)) {
		struct partial *p = (struct partial *)(uintptr_t)v;
		if (a->meta_free)
			a->meta_free(p->meta);
		free(p->buf);
		free(p);
	}
	skynet_u64map_free(a->parts);
	free(a);
}

int assembly_begin(struct assembly *a, uint32_t id, uint64_t total, size_t headroom, void *meta,
                   const uint8_t *data, size_t len, const char **why)
{
	/* id 0 is never used (it means "no id" on the wire); ids are unique
	 * among the unfinished messages */
	if (id == 0 || total == 0 || len > total || find(a, id)) {
		*why = "bad multi-part message";
		return -1;
	}
	struct partial *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		*why = "out of memory";
		return -1;
	}
	p->total = total;
	p->got = len;
	p->headroom = headroom;
	if (total <= a->max_message) {
		/* pending <= max_pending always holds, so this cannot wrap */
		if (total > a->max_pending - a->pending) {
			free(p);
			*why = "peer exceeded cluster_max_pending";
			return -1;
		}
		/* total <= max_message is a size_t, so only the headroom can wrap */
		if (headroom <= SIZE_MAX - (size_t)total)
			p->buf = malloc(headroom + (size_t)total);
		if (p->buf == NULL) {
			free(p);
			*why = "out of memory";
			return -1;
		}
		if (len > 0)
			memcpy(p->buf + headroom, data, len);
	}
	if (skynet_u64map_put(a->parts, id, (uintptr_t)p) != 0) {
		free(p->buf);
		free(p);
		*why = "out of memory";
		return -1;
	}
	if (p->buf != NULL)
		a->pending += (size_t)total;
	p->meta = meta;
	return 0;
}

int assembly_part(struct assembly *a, uint32_t id, bool last, const uint8_t *data, size_t len,
                  struct assembly_msg *out, const char **why)
{
	struct partial *p = find(a, id);
	/* a part may not overrun its message, and `last` must be exactly on
	 * the part that completes it (so a message ends once, and only whole) */
	if (p == NULL || len > p->total - p->got || last != (p->got + len == p->total)) {
		*why = "bad part";
		return -1;
	}
	if (p->buf != NULL && len > 0)
		memcpy(p->buf + p->headroom + p->got, data, len);
	p->got += len;
	if (!last)
		return 0;
	skynet_u64map_del(a->parts, id, NULL);
	if (p->buf != NULL)
		a->pending -= (size_t)p->total;
	out->meta = p->meta;
	out->buf = p->buf;
	out->total = p->total;
	free(p);
	return 1;
}

size_t assembly_pending(const struct assembly *a)
{
	return a->pending;
}

size_t assembly_count(const struct assembly *a)
{
	return skynet_u64map_count(a->parts);
}
