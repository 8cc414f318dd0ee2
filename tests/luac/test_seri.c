/*
 * test_seri.c — runs test_seri.lua against lualib/lua-seri.c in a plain Lua
 * state (no runtime needed). The script gets a global `seri` table:
 *   pack(...) -> ud, sz          packstring(...) -> string
 *   unpack(ud, sz | string)      trash(ud)            bytes(ud, sz) -> string
 *   unpack_exact(string)         unpack from a heap copy of exactly #string
 *                                bytes, so ASan/valgrind see any over-read.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "lua-seri.h"
#include "skynet_malloc.h"

static int ltrash(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	skynet_free(lua_touserdata(L, 1));
	return 0;
}

static int lbytes(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	lua_pushlstring(L, lua_touserdata(L, 1), (size_t)luaL_checkinteger(L, 2));
	return 1;
}

static int lunpack_exact(lua_State *L)
{
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	void *copy = skynet_malloc(sz ? sz : 1);
	memcpy(copy, s, sz);
	lua_settop(L, 0);
	lua_pushcfunction(L, luaseri_unpack);
	lua_pushlightuserdata(L, copy);
	lua_pushinteger(L, (lua_Integer)sz);
	int err = lua_pcall(L, 2, LUA_MULTRET, 0);
	skynet_free(copy);
	if (err != LUA_OK)
		return lua_error(L);
	return lua_gettop(L);
}

int main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s test_seri.lua\n", argv[0]);
		return 2;
	}
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	static const luaL_Reg fns[] = {
		{ "pack", luaseri_pack },
		{ "packstring", luaseri_packstring },
		{ "unpack", luaseri_unpack },
		{ "unpack_exact", lunpack_exact },
		{ "trash", ltrash },
		{ "bytes", lbytes },
		{ NULL, NULL },
	};
	luaL_newlib(L, fns);
	lua_setglobal(L, "seri");
	int status = luaL_dofile(L, argv[1]);
	if (status != LUA_OK)
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
	lua_close(L);
	return status == LUA_OK ? 0 : 1;
}
