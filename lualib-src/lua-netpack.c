/*
 * lua-netpack.c — skynet.netpack: split TCP byte streams into packets framed by a
 * 2-byte big-endian length (so a packet is at most 65535 bytes).
 *
 * filter(queue, msg, sz) unpacks one PTYPE_SOCKET message and returns the queue
 * (created on first need; the caller keeps it) followed by what happened:
 *   "data", fd, packet, size   exactly one whole packet arrived (caller frees it)
 *   "more"                      several arrived: take them with pop(queue)
 *   "open", fd, "ip:port"       a connection was accepted
 *   "init", id, addr, port      a socket (e.g. the listen one) is ready
 *   "close", fd / "error", fd, text / "warning", fd, kib
 *   nothing                     partial data, or a datagram
 * Grammar of a stream:  packet* ; packet = len:u16be byte[len]
 *
 * The queue userdata holds (a) the partial packet of each connection, in a small
 * hash by fd, and (b) a ring of whole packets waiting for pop(). A partial entry
 * with `header_got` < 2 is still reading its length; otherwise `buffer` has room
 * for `size` bytes of which `got` are filled.
 */
#include <lauxlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lua-socket.h"
#include "skynet.h"
#include "skynet_socket.h"

#define QUEUE_MT "skynet.netpack.queue"
#define HASHSIZE 64
#define MAX_PACKET 0xffff

struct partial {
	int fd;
	int header_got;
	uint8_t header[2];
	int size;
	int got;
	uint8_t *buffer;
	struct partial *next;
};

struct packet {
	int fd;
	int size;
	void *buffer;
};

struct queue {
	int cap;
	int head;
	int count;
	struct packet *ring;
	struct partial *hash[HASHSIZE];
};

static unsigned hash_fd(int fd)
{
	return (unsigned)fd % HASHSIZE;
}

static struct partial *take_partial(struct queue *q, int fd)
{
	struct partial **pp = &q->hash[hash_fd(fd)];
	while (*pp) {
		struct partial *p = *pp;
		if (p->fd == fd) {
			*pp = p->next;
			p->next = NULL;
			return p;
		}
		pp = &p->next;
	}
	return NULL;
}

static void store_partial(struct queue *q, struct partial *p)
{
	unsigned h = hash_fd(p->fd);
	p->next = q->hash[h];
	q->hash[h] = p;
}

static void free_partial(struct partial *p)
{
	if (p) {
		skynet_free(p->buffer);
		skynet_free(p);
	}
}

static void push_packet(struct queue *q, int fd, void *buffer, int size)
{
	if (q->count == q->cap) {
		int cap = q->cap ? q->cap * 2 : 64;
		struct packet *ring = skynet_malloc(sizeof(*ring) * (size_t)cap);
		for (int i = 0; i < q->count; i++)
			ring[i] = q->ring[(q->head + i) % q->cap];
		skynet_free(q->ring);
		q->ring = ring;
		q->cap = cap;
		q->head = 0;
	}
	struct packet *p = &q->ring[(q->head + q->count) % q->cap];
	p->fd = fd;
	p->size = size;
	p->buffer = buffer;
	q->count++;
}

static void clear_queue(struct queue *q)
{
	for (int i = 0; i < q->count; i++)
		skynet_free(q->ring[(q->head + i) % q->cap].buffer);
	q->count = 0;
	q->head = 0;
	for (int i = 0; i < HASHSIZE; i++) {
		struct partial *p = q->hash[i];
		while (p) {
			struct partial *next = p->next;
			free_partial(p);
			p = next;
		}
		q->hash[i] = NULL;
	}
}

static int lqueue_gc(lua_State *L)
{
	struct queue *q = luaL_checkudata(L, 1, QUEUE_MT);
	clear_queue(q);
	skynet_free(q->ring);
	q->ring = NULL;
	q->cap = 0;
	return 0;
}

/* Leave the queue at stack index 1 (creating it if it is nil); return it. */
static struct queue *get_queue(lua_State *L)
{
	struct queue *q = lua_touserdata(L, 1);
	if (q)
		return q;
	q = lua_newuserdatauv(L, sizeof(*q), 0);
	memset(q, 0, sizeof(*q));
	if (luaL_newmetatable(L, QUEUE_MT)) {
		lua_pushcfunction(L, lqueue_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	lua_replace(L, 1);
	return q;
}

/*
 * Feed `sz` bytes of fd's stream. Whole packets go to *first (if it is still free)
 * or to the ring; returns how many whole packets there were.
 */
static int feed(struct queue *q, int fd, const uint8_t *data, int sz, struct packet *first)
{
	int found = 0;
	struct partial *p = take_partial(q, fd);
	while (sz > 0) {
		if (p == NULL) {
			p = skynet_malloc(sizeof(*p));
			memset(p, 0, sizeof(*p));
			p->fd = fd;
		}
		if (p->header_got < 2) {
			p->header[p->header_got++] = *data++;
			sz--;
			if (p->header_got < 2)
				continue;
			p->size = (p->header[0] << 8) | p->header[1];
			p->buffer = skynet_malloc(p->size ? (size_t)p->size : 1);
			p->got = 0;
		}
		int need = p->size - p->got;
		int step = need < sz ? need : sz;
		memcpy(p->buffer + p->got, data, (size_t)step);
		p->got += step;
		data += step;
		sz -= step;
		if (p->got < p->size)
			break;
		/* one whole packet */
		if (found == 0) {
			first->fd = fd;
			first->size = p->size;
			first->buffer = p->buffer;
		} else {
			if (found == 1)
				push_packet(q, first->fd, first->buffer, first->size);
			push_packet(q, fd, p->buffer, p->size);
		}
		found++;
		skynet_free(p);
		p = NULL;
	}
	if (p) {
		if (p->header_got == 0) /* fresh and nothing read: not worth keeping */
			skynet_free(p);
		else
			store_partial(q, p);
	}
	return found;
}

/* filter(queue, msg, sz) -> queue, type, ... (see the top of the file) */
static int lfilter(lua_State *L)
{
	struct skynet_socket_message *m = lua_touserdata(L, 2);
	lua_Integer size = luaL_checkinteger(L, 3);
	if (m == NULL || (size_t)size < sizeof(*m))
		return luaL_error(L, "netpack: invalid socket message");
	lua_settop(L, 1);
	const char *padding = (const char *)(m + 1);
	size_t padlen = (size_t)size - sizeof(*m);
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA: {
		struct queue *q = get_queue(L);
		struct packet first = { 0, 0, NULL };
		int n = feed(q, m->id, (const uint8_t *)m->buffer, m->ud, &first);
		skynet_free(m->buffer);
		if (n == 0)
			return 1;
		if (n == 1) {
			lua_pushliteral(L, "data");
			lua_pushinteger(L, first.fd);
			lua_pushlightuserdata(L, first.buffer);
			lua_pushinteger(L, first.size);
			return 5;
		}
		lua_pushliteral(L, "more");
		return 2;
	}
	case SKYNET_SOCKET_TYPE_CLOSE:
	case SKYNET_SOCKET_TYPE_ERROR: {
		struct queue *q = lua_touserdata(L, 1);
		if (q)
			free_partial(take_partial(q, m->id));
		if (m->type == SKYNET_SOCKET_TYPE_CLOSE) {
			lua_pushliteral(L, "close");
			lua_pushinteger(L, m->id);
			return 3;
		}
		lua_pushliteral(L, "error");
		lua_pushinteger(L, m->id);
		lua_pushlstring(L, padding, padlen);
		return 4;
	}
	case SKYNET_SOCKET_TYPE_ACCEPT:
		lua_pushliteral(L, "open");
		lua_pushinteger(L, m->ud);
		lua_pushlstring(L, padding, padlen);
		return 4;
	case SKYNET_SOCKET_TYPE_WARNING:
		lua_pushliteral(L, "warning");
		lua_pushinteger(L, m->id);
		lua_pushinteger(L, m->ud);
		return 4;
	case SKYNET_SOCKET_TYPE_UDP:
		skynet_free(m->buffer); /* a stream gate has no use for datagrams */
		return 1;
	case SKYNET_SOCKET_TYPE_CONNECT:
		/* a listen socket reports its bound address; starts say "start" */
		lua_pushliteral(L, "init");
		lua_pushinteger(L, m->id);
		lua_pushlstring(L, padding, padlen);
		lua_pushinteger(L, m->ud);
		return 5;
	default: return 1;
	}
}

/* pop(queue) -> fd, packet, size | nothing */
static int lpop(lua_State *L)
{
	struct queue *q = lua_touserdata(L, 1);
	if (q == NULL || q->count == 0)
		return 0;
	struct packet *p = &q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	lua_pushinteger(L, p->fd);
	lua_pushlightuserdata(L, p->buffer);
	lua_pushinteger(L, p->size);
	return 3;
}

/* pack(string | lightuserdata, sz) -> lightuserdata, sz : the framed packet */
static int lpack(lua_State *L)
{
	size_t len;
	const void *src;
	if (lua_type(L, 1) == LUA_TLIGHTUSERDATA) {
		src = lua_touserdata(L, 1);
		len = (size_t)luaL_checkinteger(L, 2);
	} else {
		src = luaL_checklstring(L, 1, &len);
	}
	if (len > MAX_PACKET)
		return luaL_error(L, "Invalid size (too long) of data : %d", (int)len);
	uint8_t *out = skynet_malloc(len + 2);
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	memcpy(out + 2, src, len);
	lua_pushlightuserdata(L, out);
	lua_pushinteger(L, (lua_Integer)(len + 2));
	return 2;
}

/* clear(queue): drop every partial and queued packet */
static int lclear(lua_State *L)
{
	struct queue *q = lua_touserdata(L, 1);
	if (q)
		clear_queue(q);
	return 0;
}

/* tostring(packet, sz) -> string ; frees the packet */
static int ltostring(lua_State *L)
{
	void *p = lua_touserdata(L, 1);
	lua_Integer sz = luaL_checkinteger(L, 2);
	if (p == NULL) {
		lua_pushliteral(L, "");
		return 1;
	}
	lua_pushlstring(L, p, (size_t)sz);
	skynet_free(p);
	return 1;
}

int luaopen_skynet_netpack(lua_State *L)
{
	luaL_checkversion(L);
	luaL_Reg l[] = {
		{ "filter", lfilter }, { "pop", lpop },           { "pack", lpack },
		{ "clear", lclear },   { "tostring", ltostring }, { NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
