/*
 * linkpair.c — in-memory link pairs (see linkpair.h).
 */
#include "linkpair.h"

#include <string.h>

static void on_established(void *ud, struct link *l)
{
	struct pair_end *e = ud;
	e->established++;
	if (e->reject != NULL)
		link_close(l, e->reject, &e->out);
}

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len)
{
	struct pair_end *e = ud;
	e->nrec++;
	if (!e->keep_log)
		return;
	CHECK(link_buf_reserve(&e->log, 5 + len) == 0);
	uint8_t *p = e->log.data + e->log.len;
	p[0] = (uint8_t)type;
	for (int i = 0; i < 4; i++)
		p[1 + i] = (uint8_t)(len >> (8 * i));
	if (len > 0)
		memcpy(p + 5, data, len);
	e->log.len += 5 + len;
}

void end_init(struct pair_end *e, enum link_role role, enum link_purpose purpose, uint32_t id,
              const char *name, uint64_t incarnation, const uint8_t key[LINK_KEY_BYTES], uint64_t now)
{
	end_init_cred(e, role, purpose, id, name, incarnation, key, NULL, 0, now);
}

void end_init_cred(struct pair_end *e, enum link_role role, enum link_purpose purpose, uint32_t id,
                   const char *name, uint64_t incarnation, const uint8_t *key,
                   const struct link_credential *cred, uint64_t unix_now, uint64_t now)
{
	struct link_config cfg = {
		.role = role,
		.purpose = purpose,
		.self = { .node_id = id, .incarnation = incarnation },
		.cluster_key = key,
		.credential = cred,
		.unix_now = unix_now,
		.on_established = on_established,
		.on_record = on_record,
		.ud = e,
	};
	memset(e, 0, sizeof *e);
	e->keep_log = 1;
	snprintf(cfg.self.name, sizeof cfg.self.name, "%s", name);
	e->l = link_new(&cfg, now);
	CHECK(e->l != NULL);
}

void end_free(struct pair_end *e)
{
	link_free(e->l);
	link_buf_free(&e->out);
	link_buf_free(&e->log);
	memset(e, 0, sizeof *e);
}

size_t end_send(struct pair_end *from, struct pair_end *to, uint64_t now, size_t chunk)
{
	struct link_buf wire = from->out; /* take the bytes: the feed overwrites them */
	size_t moved = wire.len;

	memset(&from->out, 0, sizeof from->out);
	for (size_t off = 0; off < wire.len;) {
		size_t n = wire.len - off;
		if (chunk != 0 && n > chunk)
			n = chunk;
		link_feed(to->l, wire.data + off, n, now, &to->out);
		off += n;
	}
	link_buf_free(&wire);
	return moved;
}

void pair_pump(struct pair_end *a, struct pair_end *b, uint64_t now, size_t chunk)
{
	while (a->out.len > 0 || b->out.len > 0) {
		end_send(a, b, now, chunk);
		end_send(b, a, now, chunk);
	}
}

int pair_handshake(struct pair_end *a, struct pair_end *b, uint64_t now, size_t chunk)
{
	CHECK(link_start(a->l, &a->out) == LINK_OK);
	CHECK(link_start(b->l, &b->out) == LINK_OK);
	pair_pump(a, b, now, chunk);
	return link_state(a->l) == LINK_ESTABLISHED && link_state(b->l) == LINK_ESTABLISHED ? 0 : -1;
}

int end_next(const struct pair_end *e, size_t *cursor, unsigned *type, const uint8_t **data, size_t *len)
{
	size_t off = *cursor;
	if (off + 5 > e->log.len)
		return -1;
	const uint8_t *p = e->log.data + off;
	*type = p[0];
	*len = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16 | (size_t)p[4] << 24;
	*data = p + 5;
	*cursor = off + 5 + *len;
	return 0;
}

unsigned end_nth(const struct pair_end *e, size_t n, const uint8_t **data, size_t *len)
{
	size_t cur = 0;
	unsigned type = 0;
	for (size_t k = 0; k <= n; k++)
		CHECK(end_next(e, &cur, &type, data, len) == 0);
	return type;
}
