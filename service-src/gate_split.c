/*
 * gate_split.c — the C gate's packet splitter (see gate_split.h).
 *
 * A packet whose body is already in the input (or is small) gets its whole
 * buffer at once, so the body is copied once, straight from the socket read,
 * and handed on without another copy.  A large packet cut across reads gets a
 * buffer that grows with what has arrived (doubling, never past its length):
 * a header announcing 16 MiB followed by a trickle costs what arrived, not
 * 16 MiB, and the gate's caps count real memory (gate_split_buffered).
 */
#include "gate_split.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CHUNK 65536 /* bytes: smaller packets get their whole buffer at once */

struct gate_split {
	int header_size;
	size_t max_len;
	int header_got; /* header bytes seen of the packet being read */
	uint8_t header[4];
	uint8_t *packet;               /* NULL until the header is complete */
	size_t size, got;              /* the packet's length, body bytes filled */
	size_t cap;                    /* bytes allocated at packet: got <= cap <= max(size, 1) */
	enum gate_split_result failed; /* GATE_SPLIT_NEED while healthy */
};

struct gate_split *gate_split_new(int header_size, size_t max_len)
{
	if ((header_size != 2 && header_size != 4) || max_len == 0)
		return NULL;
	struct gate_split *s = calloc(1, sizeof(*s));
	if (s != NULL) {
		s->header_size = header_size;
		s->max_len = max_len;
	}
	return s;
}

void gate_split_free(struct gate_split *s)
{
	if (s == NULL)
		return;
	free(s->packet);
	free(s);
}

size_t gate_split_buffered(const struct gate_split *s)
{
	return s != NULL && s->packet != NULL ? s->cap : 0;
}

/* Takes header bytes; returns GATE_SPLIT_PACKET once the packet buffer
 * exists, GATE_SPLIT_NEED when the input ended first, or an error. */
static enum gate_split_result read_header(struct gate_split *s, const uint8_t **data, size_t *sz)
{
	while (s->header_got < s->header_size) {
		if (*sz == 0)
			return GATE_SPLIT_NEED;
		s->header[s->header_got++] = *(*data)++;
		(*sz)--;
	}
	size_t len = 0;
	for (int i = 0; i < s->header_size; i++)
		len = (len << 8) | s->header[i];
	if (len >= s->max_len)
		return s->failed = GATE_SPLIT_TOOBIG;
	/* malloc(0) may return NULL: a 1-byte block keeps NULL meaning failure */
	size_t cap = len ? len : 1;
	if (len > *sz && len > FIRST_CHUNK)
		cap = *sz > FIRST_CHUNK ? *sz : FIRST_CHUNK;
	s->packet = malloc(cap);
	if (s->packet == NULL)
		return s->failed = GATE_SPLIT_NOMEM;
	s->cap = cap;
	s->size = len;
	s->got = 0;
	return GATE_SPLIT_PACKET;
}

enum gate_split_result gate_split_next(struct gate_split *s, const uint8_t **data, size_t *sz,
                                       uint8_t **packet, size_t *len)
{
	if (s->failed != GATE_SPLIT_NEED)
		return s->failed;
	if (s->packet == NULL) {
		enum gate_split_result r = read_header(s, data, sz);
		if (r != GATE_SPLIT_PACKET)
			return r;
	}
	size_t step = s->size - s->got;
	if (step > *sz)
		step = *sz;
	if (s->got + step > s->cap) { /* grow: double, but never past the packet's length */
		size_t cap = s->cap * 2;
		if (cap < s->got + step)
			cap = s->got + step;
		if (cap > s->size)
			cap = s->size;
		uint8_t *p = realloc(s->packet, cap);
		if (p == NULL)
			return s->failed = GATE_SPLIT_NOMEM;
		s->packet = p;
		s->cap = cap;
	}
	if (step > 0) { /* *data may be NULL when *sz is 0: no arithmetic on it */
		memcpy(s->packet + s->got, *data, step);
		s->got += step;
		*data += step;
		*sz -= step;
	}
	if (s->got < s->size)
		return GATE_SPLIT_NEED;
	/* whole (a 0-byte packet is whole as soon as its header is) */
	*packet = s->packet;
	*len = s->size;
	s->packet = NULL;
	s->header_got = 0;
	s->size = s->got = s->cap = 0;
	return GATE_SPLIT_PACKET;
}
