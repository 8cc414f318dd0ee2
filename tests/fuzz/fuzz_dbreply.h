/*
 * fuzz_dbreply.h — what the database reply targets (fuzz_mysql.c,
 * fuzz_redis.c) share: a plain Lua state that loads a driver's source file
 * with stand-ins for the skynet modules it requires but the parser does not
 * use, and a fake socket over the fuzz input.
 */
#ifndef SKIFF_FUZZ_DBREPLY_H
#define SKIFF_FUZZ_DBREPLY_H

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>

#include "fuzz_common.h"

/* Lua source shared by the targets: fake_sock(bytes) gives an object with
 * read(n) and readline(sep) that raise "fuzz: end of data" past the end, the
 * way socketchannel's socket raises when the peer is gone. */
static const char fuzz_fake_sock[] =
	"function fake_sock(data)\n"
	"  local pos = 1\n"
	"  local s = {}\n"
	"  function s:read(n)\n"
	"    assert(math.type(n) == 'integer' and n >= 0, 'bad read size')\n"
	"    if n > #data - pos + 1 then error('fuzz: end of data', 0) end\n"
	"    local r = data:sub(pos, pos + n - 1)\n"
	"    pos = pos + n\n"
	"    return r\n"
	"  end\n"
	"  function s:readline(sep)\n"
	"    local i = data:find(sep, pos, true)\n"
	"    if not i then error('fuzz: end of data', 0) end\n"
	"    local r = data:sub(pos, i - 1)\n"
	"    pos = i + #sep\n"
	"    return r\n"
	"  end\n"
	"  return s\n"
	"end\n"
	/* socketchannel is only called by connect/request, never by the parsers */
	"package.preload['skynet.socketchannel'] = function()\n"
	"  return { channel = function() error('fuzz: no sockets here') end }\n"
	"end\n";

/* Coverage of the Lua code: libFuzzer instruments C only, and the parser is
 * Lua run by an uninstrumented interpreter, so a line hook counts (previous
 * line, line) pairs in libFuzzer's "extra counters" section.  Without it the
 * fuzzer sees no new coverage from any input and drops even the seeds.  In a
 * replay build the array is just unused memory. */
#define FUZZ_LUA_EDGES 8192
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t fuzz_lua_edges[FUZZ_LUA_EDGES];

static void
fuzz_line_hook(lua_State *L, lua_Debug *ar)
{
	(void)L;
	static unsigned prev;
	unsigned line = (unsigned)ar->currentline;
	unsigned i = (prev * 2654435761u ^ line) % FUZZ_LUA_EDGES;
	if (fuzz_lua_edges[i] < 255)
		fuzz_lua_edges[i]++;
	prev = line;
}

static inline lua_State *
fuzz_lua_state(void)
{
	lua_State *L = luaL_newstate();
	FUZZ_ASSERT(L != NULL);
	luaL_openlibs(L);
	lua_sethook(L, fuzz_line_hook, LUA_MASKLINE, 0);
	FUZZ_ASSERT(luaL_loadbuffer(L, fuzz_fake_sock, sizeof(fuzz_fake_sock) - 1, "=fake_sock") == LUA_OK);
	lua_call(L, 0, 0);
	return L;
}

#endif
