/*
 * fuzz_dbreply.h — what the database reply targets (fuzz_mysql.c,
 * fuzz_redis.c) share: a plain Lua state that loads a driver's source file
 * with stand-ins for the skynet modules it requires but the parser does not
 * use, and a fake socket over the fuzz input (the rest is in fuzz_lua.h).
 */
#ifndef SKIFF_FUZZ_DBREPLY_H
#define SKIFF_FUZZ_DBREPLY_H

#include "fuzz_lua.h"

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

static inline lua_State *fuzz_lua_state(void)
{
	lua_State *L = fuzz_lua_newstate();
	fuzz_lua_trace(L);
	FUZZ_ASSERT(luaL_loadbuffer(L, fuzz_fake_sock, sizeof(fuzz_fake_sock) - 1, "=fake_sock") == LUA_OK);
	lua_call(L, 0, 0);
	return L;
}

#endif
