/*
 * fuzz_seri.c — skynet.unpack (lualib/lua-seri.c: luaseri_unpack) on bytes
 * from outside, in a plain Lua state, as a service receiving a "lua" message
 * would.  The input goes in as a lightuserdata + size (the message path: no
 * string copy, so ASan sees reads past the end of the message itself).
 *
 * Properties: unpack either returns values or raises a Lua error (never
 * crashes, never reads outside the buffer); whatever it returns packs again
 * (luaseri_packstring), and that unpacks again to the same number of values
 * and packs again.  The packed bytes, even their length, are not compared:
 * a float key 2.0 comes back as the integer 2, and integer keys move between
 * a table's hash and array parts, which pack writes differently.
 */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "lua-seri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* (msg, size) or (string) -> n, packed string */
static int roundtrip(lua_State *L)
{
	int args = lua_gettop(L);
	lua_pushcfunction(L, luaseri_unpack);
	lua_insert(L, 1);
	lua_call(L, args, LUA_MULTRET);
	int n = lua_gettop(L);
	lua_pushcfunction(L, luaseri_packstring);
	lua_insert(L, 1);
	lua_call(L, n, 1);
	lua_pushinteger(L, n);
	lua_insert(L, 1);
	return 2;
}

/*
 * A fresh state per input (no libraries: unpack and pack need none), closed
 * at the end, so each input frees everything it allocated.  libFuzzer runs a
 * full leak scan after any input whose mallocs and frees do not balance; a
 * state kept across inputs never balances (Lua's GC frees on its own
 * schedule), so the scan ran after nearly every input (~1k exec/s) until
 * libFuzzer gave up and turned leak detection off for the rest of the run.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = luaL_newstate();
	FUZZ_ASSERT(L != NULL);
	/* an exact-size heap copy, so any overread is past a malloc'd block */
	uint8_t *msg = malloc(size ? size : 1);
	FUZZ_ASSERT(msg != NULL);
	if (size)
		memcpy(msg, data, size);
	lua_settop(L, 0);
	lua_pushcfunction(L, roundtrip);
	lua_pushlightuserdata(L, msg);
	lua_pushinteger(L, (lua_Integer)size);
	if (lua_pcall(L, 2, 2, 0) == LUA_OK) {
		lua_Integer n = lua_tointeger(L, 1);
		size_t len;
		const char *packed = lua_tolstring(L, 2, &len);
		FUZZ_ASSERT(packed != NULL);
		/* again, from the packed string */
		lua_pushcfunction(L, roundtrip);
		lua_pushvalue(L, 2); /* string form: unpack(string) */
		FUZZ_ASSERT(lua_pcall(L, 1, 2, 0) == LUA_OK);
		FUZZ_ASSERT(lua_tointeger(L, -2) == n);
		FUZZ_ASSERT(lua_type(L, -1) == LUA_TSTRING);
	} else {
		FUZZ_ASSERT(lua_type(L, -1) == LUA_TSTRING);
	}
	lua_close(L);
	free(msg);
	return 0;
}
