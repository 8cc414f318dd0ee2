/*
 * fuzz_lua.h — what the targets that run Lua code share (fuzz_console.c,
 * fuzz_http.c, fuzz_msgserver.c, fuzz_mysql.c, fuzz_redis.c): a Lua state
 * whose path through the Lua code is coverage libFuzzer can see, a checked
 * call, and a full collection now and then.
 *
 * Coverage: libFuzzer instruments C only, and the code under test is Lua run
 * by an uninstrumented interpreter, so a line hook counts (previous line,
 * line) pairs in libFuzzer's "extra counters" section (its documented hook).
 * Without it the fuzzer sees no new coverage from any input and drops even
 * the seeds.  In a replay build the array is just unused memory.  Include
 * this header from one file of a target only: the counters are per target.
 */
#ifndef SKIFF_FUZZ_LUA_H
#define SKIFF_FUZZ_LUA_H

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_common.h"

#define FUZZ_LUA_EDGES 65536
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t fuzz_lua_edges[FUZZ_LUA_EDGES];

static void fuzz_line_hook(lua_State *L, lua_Debug *ar)
{
	(void)L;
	static unsigned prev;
	unsigned line = (unsigned)ar->currentline;
	unsigned i = (prev * 2654435761u ^ line) % FUZZ_LUA_EDGES;
	if (fuzz_lua_edges[i] < 255)
		fuzz_lua_edges[i]++;
	prev = line;
}

/* A state with the standard libraries and no hook yet. */
static inline lua_State *fuzz_lua_newstate(void)
{
	lua_State *L = luaL_newstate();
	FUZZ_ASSERT(L != NULL);
	luaL_openlibs(L);
	return L;
}

/* The target's state, made by setup() for the first input, with an empty
 * stack: the start of every LLVMFuzzerTestOneInput. */
static inline lua_State *fuzz_lua_input(lua_State *(*setup)(void))
{
	static lua_State *L;
	if (L == NULL)
		L = setup();
	lua_settop(L, 0);
	return L;
}

/* From now on the Lua lines run are coverage (call it when setup is done,
 * so that only the code under test counts). */
static inline void fuzz_lua_trace(lua_State *L)
{
	lua_sethook(L, fuzz_line_hook, LUA_MASKLINE, 0);
}

/* Calls the function below its nargs arguments; an error is a finding: it is
 * printed after `what` and the target stops. */
static inline void fuzz_lua_check(lua_State *L, int nargs, int nresults, const char *what)
{
	if (lua_pcall(L, nargs, nresults, 0) != LUA_OK) {
		fprintf(stderr, "%s: %s\n", what, lua_tostring(L, -1));
		FUZZ_ASSERT(0);
	}
}

/* The end of one input: every 256 inputs, a full collection, so garbage left
 * by one input never hides a leak or piles up over a long campaign. */
static inline void fuzz_lua_done(lua_State *L)
{
	static unsigned runs;
	if (++runs % 256 == 0)
		lua_gc(L, LUA_GCCOLLECT);
}

/* The whole of an input for a target whose global function `fn` takes the
 * input as one string and returns nothing. */
static inline void fuzz_lua_bytes(lua_State *L, const char *fn, const uint8_t *data, size_t size,
                                  const char *what)
{
	lua_getglobal(L, fn);
	lua_pushlstring(L, (const char *)data, size);
	fuzz_lua_check(L, 1, 0, what);
	fuzz_lua_done(L);
}

/* Loads the Lua file at `path` and runs it (a module returns itself), then
 * runs `checks` with that module as its `...`: what it returns becomes the
 * global `check`, called once per input. */
static inline void fuzz_lua_checks_for(lua_State *L, const char *path, const char *checks, size_t len)
{
	if (luaL_loadfile(L, path) != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		FUZZ_ASSERT(0);
	}
	lua_call(L, 0, 1);
	FUZZ_ASSERT(luaL_loadbuffer(L, checks, len, "=checks") == LUA_OK);
	lua_insert(L, -2);
	lua_call(L, 1, 1);
	lua_setglobal(L, "check");
}

#endif
