/*
 * lua-multicast.c — `skynet.multicast.core`: shared packages for multicast.
 *
 * A published message is packed once into a package { ref, size, data }.
 * multicastd sends every local subscriber the same package: the message each
 * subscriber receives (PTYPE_MULTICAST, session = channel id) carries only the
 * package pointer. multicastd sets the reference count to the number of
 * subscribers (bind) *before* sending anything, and every subscriber drops one
 * reference after dispatch (close); the last one frees the data. So the
 * payload is copied zero times however many subscribers there are.
 *
 * Invariant: ref is only decremented by subscribers, after bind; a package
 * with no subscriber is freed by bind(p, 0).
 *
 * A package pointer is only meaningful inside this process: multicastd sends
 * other nodes string(pkg) and the receiving multicastd calls packremote.
 *
 * Functions (stack effects in brackets):
 *   pack(msg, sz)        -> pkg            [2 -> 1] takes ownership of msg
 *   ptr(pkg)             -> string         [1 -> 1] the pointer bytes to send
 *   unpack(msg, sz)      -> pkg, data, size [2 -> 3] reads a delivered message
 *   bind(pkg, n)                           [2 -> 0] n references; n == 0 frees
 *   close(pkg)                             [1 -> 0] drop one reference
 *   remote(pkg)          -> msg, sz        [1 -> 2] copy the data out, close
 *   packremote(msg, sz)  -> pkg            [2 -> 1] package a copied message
 *   packremote(str)      -> pkg            [1 -> 1] package a copy of a string
 *   string(pkg)          -> string         [1 -> 1] copy of the data (ref unchanged)
 *   nextid(id)           -> id             [1 -> 1] next channel id
 */
#include "lua-multicast.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "skynet.h"

struct mc_package {
	atomic_int ref;
	uint32_t size;
	void *data;
};

static struct mc_package *check_package(lua_State *L, int idx)
{
	luaL_checktype(L, idx, LUA_TLIGHTUSERDATA);
	struct mc_package *pack = lua_touserdata(L, idx);
	if (pack == NULL)
		luaL_error(L, "invalid multicast package");
	return pack;
}

static int mc_pack(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	void *msg = lua_touserdata(L, 1);
	lua_Integer sz = luaL_checkinteger(L, 2);
	if (sz < 0 || (uint64_t)sz > UINT32_MAX)
		return luaL_error(L, "multicast message too large");
	struct mc_package *pack = skynet_malloc(sizeof(*pack));
	atomic_init(&pack->ref, 0);
	pack->size = (uint32_t)sz;
	pack->data = msg;
	lua_pushlightuserdata(L, pack);
	return 1;
}

static int mc_ptr(lua_State *L)
{
	struct mc_package *pack = check_package(L, 1);
	lua_pushlstring(L, (const char *)&pack, sizeof(pack));
	return 1;
}

static int mc_unpack(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	const void *msg = lua_touserdata(L, 1);
	lua_Integer sz = luaL_checkinteger(L, 2);
	if (msg == NULL || sz != (lua_Integer)sizeof(struct mc_package *))
		return luaL_error(L, "invalid multicast message (size %d)", (int)sz);
	struct mc_package *pack;
	memcpy(&pack, msg, sizeof(pack));
	lua_pushlightuserdata(L, pack);
	lua_pushlightuserdata(L, pack->data);
	lua_pushinteger(L, pack->size);
	return 3;
}

static void package_free(struct mc_package *pack)
{
	skynet_free(pack->data);
	skynet_free(pack);
}

static int mc_bind(lua_State *L)
{
	struct mc_package *pack = check_package(L, 1);
	lua_Integer n = luaL_checkinteger(L, 2);
	if (n < 0 || n > INT32_MAX)
		return luaL_error(L, "invalid reference count");
	if (n == 0) {
		package_free(pack);
		return 0;
	}
	atomic_store(&pack->ref, (int)n);
	return 0;
}

static int mc_close(lua_State *L)
{
	struct mc_package *pack = check_package(L, 1);
	if (atomic_fetch_sub(&pack->ref, 1) == 1)
		package_free(pack);
	return 0;
}

static int mc_remote(lua_State *L)
{
	struct mc_package *pack = check_package(L, 1);
	void *copy = skynet_malloc(pack->size ? pack->size : 1);
	memcpy(copy, pack->data, pack->size);
	lua_pushlightuserdata(L, copy);
	lua_pushinteger(L, pack->size);
	if (atomic_fetch_sub(&pack->ref, 1) == 1)
		package_free(pack);
	return 2;
}

static int mc_packremote(lua_State *L)
{
	size_t sz = 0;
	const void *msg;
	if (lua_type(L, 1) == LUA_TSTRING) {
		msg = lua_tolstring(L, 1, &sz);
	} else {
		luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
		msg = lua_touserdata(L, 1);
		sz = (size_t)luaL_checkinteger(L, 2);
	}
	if (sz > UINT32_MAX)
		return luaL_error(L, "multicast message too large");
	void *data = skynet_malloc(sz ? sz : 1);
	memcpy(data, msg, sz);
	struct mc_package *pack = skynet_malloc(sizeof(*pack));
	atomic_init(&pack->ref, 0);
	pack->size = (uint32_t)sz;
	pack->data = data;
	lua_pushlightuserdata(L, pack);
	return 1;
}

static int mc_string(lua_State *L)
{
	struct mc_package *pack = check_package(L, 1);
	lua_pushlstring(L, (const char *)pack->data, pack->size);
	return 1;
}

/* Channel ids keep the owning node in their low 8 bits and stay positive. */
static int mc_nextid(lua_State *L)
{
	uint32_t id = (uint32_t)luaL_checkinteger(L, 1);
	id = (id + 256) & 0x7fffffffu;
	if ((id >> 8) == 0)
		id += 256;
	lua_pushinteger(L, id);
	return 1;
}

int luaopen_skynet_multicast_core(lua_State *L)
{
	luaL_checkversion(L);
	luaL_Reg l[] = {
		{ "pack", mc_pack },
		{ "ptr", mc_ptr },
		{ "unpack", mc_unpack },
		{ "bind", mc_bind },
		{ "close", mc_close },
		{ "remote", mc_remote },
		{ "packremote", mc_packremote },
		{ "string", mc_string },
		{ "nextid", mc_nextid },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
