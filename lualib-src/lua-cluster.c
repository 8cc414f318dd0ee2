/*
 * lua-cluster.c — `skynet.cluster.core`: builds the requests a caller sends to
 * the node's cluster service and reads its answers (format in cluster/cluster_msg.h).
 *
 *   packrequest(kind, node, address, tag, msg, sz) -> msg, sz
 *       kind "call" | "push" | "query"; address a handle (integer) or a string
 *       (for "query": the name asked for, `msg` absent); tag a trace tag or nil.
 *       msg (lightuserdata from skynet.pack) is freed: the result replaces it.
 *   unpackresponse(msg, sz) -> ...        the remote's return values, or raises
 *       the reason text, which starts with "call failed".
 *   unpackraw(msg, sz) -> true, msg, sz | false, reason
 *       msg is a fresh copy of the payload (skynet_malloc'd) for skynet.ret.
 *   unpackquery(msg, sz) -> handle        or raises the reason.
 *   nodename() -> string                  hostname (chars <= ' ' as '_') .. pid
 */
#include "cluster_msg.h"
#include "lua-cluster.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua-seri.h"
#include "skynet.h"

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* packrequest(kind, node, address, tag, msg, sz): stack unchanged on error. */
static int lpackrequest(lua_State *L)
{
	static const char *const kinds[] = { "call", "push", "query", NULL };
	int kind = luaL_checkoption(L, 1, NULL, kinds);
	size_t nl, al = 0, tl = 0, psz;
	const char *node = luaL_checklstring(L, 2, &nl);
	const char *addr = NULL;
	uint32_t handle = 0;
	const void *payload;
	void *tofree = NULL;
	if (nl == 0 || nl > CLUSTER_NODE_MAX)
		return luaL_error(L, "invalid cluster node name [%s]", node);
	if (kind == CLUSTER_QUERY) {
		payload = luaL_checklstring(L, 3, &psz);
		handle = 0;
	} else {
		if (lua_type(L, 3) == LUA_TNUMBER) {
			handle = (uint32_t)luaL_checkinteger(L, 3);
		} else {
			addr = luaL_checklstring(L, 3, &al);
			if (al == 0 || al > 255)
				return luaL_error(L, "invalid cluster address [%s] (1..255 bytes)", addr);
		}
		if (lua_type(L, 5) == LUA_TSTRING) {
			payload = lua_tolstring(L, 5, &psz);
		} else {
			payload = lua_touserdata(L, 5);
			psz = (size_t)luaL_checkinteger(L, 6);
			tofree = (void *)payload;
		}
	}
	const char *tag = luaL_optlstring(L, 4, NULL, &tl);
	if (tl > CLUSTER_TRACE_MAX)
		tl = 0;
	size_t hl = 2 + nl + 1 + (addr ? 1 + al : 4) + 2 + tl;
	uint8_t *buf = skynet_malloc(hl + psz);
	uint8_t *p = buf;
	*p++ = (uint8_t)kind;
	*p++ = (uint8_t)nl;
	memcpy(p, node, nl);
	p += nl;
	if (addr) {
		*p++ = 1;
		*p++ = (uint8_t)al;
		memcpy(p, addr, al);
		p += al;
	} else {
		*p++ = 0;
		put_u32(p, handle);
		p += 4;
	}
	*p++ = (uint8_t)(tl & 0xff);
	*p++ = (uint8_t)(tl >> 8);
	if (tl)
		memcpy(p, tag, tl);
	p += tl;
	if (psz)
		memcpy(p, payload, psz);
	skynet_free(tofree);
	lua_pushlightuserdata(L, buf);
	lua_pushinteger(L, (lua_Integer)(hl + psz));
	return 2;
}

static const uint8_t *checkmsg(lua_State *L, size_t *sz)
{
	const uint8_t *msg;
	if (lua_type(L, 1) == LUA_TSTRING) {
		msg = (const uint8_t *)lua_tolstring(L, 1, sz);
	} else {
		msg = lua_touserdata(L, 1);
		*sz = (size_t)luaL_checkinteger(L, 2);
	}
	if (msg == NULL || *sz == 0)
		luaL_error(L, "call failed: empty answer from the cluster service");
	return msg;
}

static int raise_reason(lua_State *L, const uint8_t *msg, size_t sz)
{
	lua_pushlstring(L, (const char *)msg + 1, sz - 1);
	return lua_error(L);
}

static int lunpackresponse(lua_State *L)
{
	size_t sz;
	const uint8_t *msg = checkmsg(L, &sz);
	if (msg[0] != CLUSTER_OK)
		return raise_reason(L, msg, sz);
	lua_settop(L, 0);
	lua_pushlightuserdata(L, (void *)(msg + 1));
	lua_pushinteger(L, (lua_Integer)(sz - 1));
	return luaseri_unpack(L);
}

static int lunpackraw(lua_State *L)
{
	size_t sz;
	const uint8_t *msg = checkmsg(L, &sz);
	if (msg[0] != CLUSTER_OK) {
		lua_pushboolean(L, 0);
		lua_pushlstring(L, (const char *)msg + 1, sz - 1);
		return 2;
	}
	void *copy = skynet_malloc(sz - 1 + 1);
	memcpy(copy, msg + 1, sz - 1);
	lua_pushboolean(L, 1);
	lua_pushlightuserdata(L, copy);
	lua_pushinteger(L, (lua_Integer)(sz - 1));
	return 3;
}

static int lunpackquery(lua_State *L)
{
	size_t sz;
	const uint8_t *msg = checkmsg(L, &sz);
	if (msg[0] != CLUSTER_OK)
		return raise_reason(L, msg, sz);
	if (sz != 5)
		return luaL_error(L, "call failed: malformed query answer");
	uint32_t h =
		(uint32_t)msg[1] | (uint32_t)msg[2] << 8 | (uint32_t)msg[3] << 16 | (uint32_t)msg[4] << 24;
	lua_pushinteger(L, h);
	return 1;
}

static int lnodename(lua_State *L)
{
	char host[256];
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "noname");
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if ((unsigned char)*p <= ' ')
			*p = '_';
	lua_pushfstring(L, "%s%d", host, (int)getpid());
	return 1;
}

int luaopen_skynet_cluster_core(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "packrequest", lpackrequest }, { "unpackresponse", lunpackresponse },
		{ "unpackraw", lunpackraw },     { "unpackquery", lunpackquery },
		{ "nodename", lnodename },       { NULL, NULL },
	};
	luaL_newlib(L, l);
	lua_pushinteger(L, PTYPE_CLUSTER);
	lua_setfield(L, -2, "PTYPE_CLUSTER");
	return 1;
}
