/*
 * fuzz_netpack.c — the gate's packet splitter, skynet.netpack
 * (lualib/lua-netpack.c), driven through its Lua API exactly as gate.lua uses
 * it: filter(queue, msg, sz) on PTYPE_SOCKET messages, pop(queue) after
 * "more", tostring(packet, sz), clear(queue).
 *
 * Input: a script of events.  Each event starts with one byte:
 *   op = b & 3, fd = (b >> 2) % NFD
 *   0, 1  DATA: the next byte n (0..255), then n bytes of stream for fd
 *   2     CLOSE fd (drops fd's partial packet)
 *   3     clear(queue) (drops every partial packet)
 * A reference splitter (len:u16be byte[len], per fd) runs next to it; every
 * packet netpack hands out must be the next one the reference expects for
 * that fd, in order, byte for byte, and none may be missing.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "skynet_malloc.h"
#include "skynet_socket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int luaopen_skynet_netpack(lua_State *L);

#define NFD 3

struct model {
	uint8_t *buf; /* fd's bytes not yet split into packets */
	size_t len;
	uint8_t *want; /* whole packets the reference found, not yet seen */
	size_t wantlen;
};

static struct model models[NFD];

static void append(uint8_t **b, size_t *len, const uint8_t *p, size_t n)
{
	uint8_t *nb = realloc(*b, *len + n + 1);
	FUZZ_ASSERT(nb != NULL);
	memcpy(nb + *len, p, n);
	*b = nb;
	*len += n;
}

/* feed the reference: whole packets move from buf to want (framing kept) */
static void model_feed(struct model *m, const uint8_t *p, size_t n)
{
	append(&m->buf, &m->len, p, n);
	for (;;) {
		if (m->len < 2)
			return;
		size_t plen = ((size_t)m->buf[0] << 8) | m->buf[1];
		if (m->len < 2 + plen)
			return;
		append(&m->want, &m->wantlen, m->buf, 2 + plen);
		memmove(m->buf, m->buf + 2 + plen, m->len - 2 - plen);
		m->len -= 2 + plen;
	}
}

/* a packet netpack produced for fd: must be the reference's next one */
static void model_got(int fd, const uint8_t *p, size_t n)
{
	FUZZ_ASSERT(fd >= 0 && fd < NFD);
	struct model *m = &models[fd];
	FUZZ_ASSERT(m->wantlen >= 2);
	size_t plen = ((size_t)m->want[0] << 8) | m->want[1];
	FUZZ_ASSERT(plen == n);
	FUZZ_ASSERT(n == 0 || memcmp(m->want + 2, p, n) == 0);
	memmove(m->want, m->want + 2 + plen, m->wantlen - 2 - plen);
	m->wantlen -= 2 + plen;
}

/* takes packet (lightuserdata) and size at stack indexes i, i+1; frees it */
static void take_packet(lua_State *L, int fd, int i)
{
	lua_getglobal(L, "tostring_packet");
	lua_pushvalue(L, i);
	lua_pushvalue(L, i + 1);
	lua_call(L, 2, 1);
	size_t n;
	const char *s = lua_tolstring(L, -1, &n);
	FUZZ_ASSERT(s != NULL);
	model_got(fd, (const uint8_t *)s, n);
	lua_pop(L, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* no standard libraries: netpack needs none, and opening them all took
	 * about a third of the time of a typical input */
	lua_State *L = luaL_newstate();
	FUZZ_ASSERT(L != NULL);
	luaL_requiref(L, "netpack", luaopen_skynet_netpack, 0);
	lua_getfield(L, -1, "filter");
	lua_setglobal(L, "filter");
	lua_getfield(L, -1, "pop");
	lua_setglobal(L, "pop");
	lua_getfield(L, -1, "tostring");
	lua_setglobal(L, "tostring_packet");
	lua_getfield(L, -1, "clear");
	lua_setglobal(L, "clear");
	lua_settop(L, 0);
	lua_pushnil(L); /* index 1: the queue */

	size_t i = 0;
	while (i < size) {
		uint8_t b = data[i++];
		int op = b & 3, fd = (b >> 2) % NFD;
		struct skynet_socket_message m = { 0, fd, 0, NULL };
		if (op <= 1) {
			size_t n = i < size ? data[i++] : 0;
			if (n > size - i)
				n = size - i;
			m.type = SKYNET_SOCKET_TYPE_DATA;
			m.ud = (int)n;
			m.buffer = skynet_malloc(n ? n : 1);
			memcpy(m.buffer, data + i, n);
			model_feed(&models[fd], data + i, n);
			i += n;
		} else if (op == 2) {
			m.type = SKYNET_SOCKET_TYPE_CLOSE;
			models[fd].len = 0;
		} else {
			lua_getglobal(L, "clear");
			lua_pushvalue(L, 1);
			lua_call(L, 1, 0);
			for (int k = 0; k < NFD; k++)
				models[k].len = 0;
			continue;
		}
		lua_settop(L, 1);
		lua_getglobal(L, "filter");
		lua_pushvalue(L, 1);
		lua_pushlightuserdata(L, &m);
		lua_pushinteger(L, (lua_Integer)sizeof(m));
		lua_call(L, 3, LUA_MULTRET);
		/* queue [, type, ...] */
		FUZZ_ASSERT(lua_gettop(L) >= 2);
		lua_copy(L, 2, 1);
		const char *what = lua_tostring(L, 3);
		if (m.type == SKYNET_SOCKET_TYPE_CLOSE) {
			FUZZ_ASSERT(what != NULL && strcmp(what, "close") == 0);
			FUZZ_ASSERT(lua_tointeger(L, 4) == fd);
			continue;
		}
		if (what == NULL) /* partial data: nothing whole yet */
			continue;
		if (strcmp(what, "data") == 0) {
			FUZZ_ASSERT(lua_tointeger(L, 4) == fd);
			take_packet(L, fd, 5);
			continue;
		}
		FUZZ_ASSERT(strcmp(what, "more") == 0);
		for (int got = 0;; got++) {
			lua_settop(L, 1);
			lua_getglobal(L, "pop");
			lua_pushvalue(L, 1);
			lua_call(L, 1, 3);
			if (lua_isnil(L, 2)) {
				FUZZ_ASSERT(got >= 2);
				break;
			}
			take_packet(L, (int)lua_tointeger(L, 2), 3);
		}
	}
	/* every whole packet the reference found came out */
	for (int k = 0; k < NFD; k++) {
		FUZZ_ASSERT(models[k].wantlen == 0);
		free(models[k].buf);
		free(models[k].want);
		models[k] = (struct model){ NULL, 0, NULL, 0 };
	}
	lua_close(L); /* the queue's __gc frees the partial packets */
	return 0;
}
