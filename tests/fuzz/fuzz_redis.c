/*
 * fuzz_redis.c — skynet.db.redis's reply parser, read_reply
 * (lualib/skynet/db/redis.lua), on bytes from a hostile server.
 *
 * The driver's source file is loaded as it is and redis.read_reply is fed a
 * fake socket over the input (all of it: replies are read until the data
 * ends, as a pipeline's are).
 * Properties: each reply is (true|false, value) with a value of a RESP type
 * (string, integer, nil, or a table of those); the only errors are the
 * parser's "redis: malformed reply" and the fake socket's end of data.
 * Deep nesting may also end in Lua's own "stack overflow" error, which the
 * channel handles like any other (the connection is closed).
 */
#include <stdio.h>

#include "fuzz_dbreply.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char checks[] =
	"local redis = ...\n"
	"local function value(v, depth)\n"
	"  local t = type(v)\n"
	"  if t == 'table' then\n"
	"    for k, x in pairs(v) do\n"
	"      assert(math.type(k) == 'integer', 'array key')\n"
	"      value(x, depth + 1)\n"
	"    end\n"
	"  else\n"
	"    assert(t == 'string' or math.type(v) == 'integer' or v == nil, 'value type ' .. t)\n"
	"  end\n"
	"end\n"
	"return function(bytes)\n"
	"  local sock = fake_sock(bytes)\n"
	"  for _ = 1, 1000 do\n"
	"    local ok, r1, r2 = pcall(redis.read_reply, sock)\n"
	"    if not ok then\n"
	"      if type(r1) == 'string' and (r1:find('redis: malformed reply', 1, true)\n"
	"          or r1 == 'fuzz: end of data' or r1:find('stack overflow', 1, true)) then return end\n"
	"      error('unexpected error: ' .. tostring(r1))\n"
	"    end\n"
	"    assert(type(r1) == 'boolean', 'first result is ok')\n"
	"    value(r2, 0)\n"
	"  end\n"
	"end\n";

static lua_State *setup(void)
{
	lua_State *L = fuzz_lua_state();
	fuzz_lua_checks_for(L, SKIFF_SOURCE_ROOT "/lualib/skynet/db/redis.lua", checks, sizeof(checks) - 1);
	return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = fuzz_lua_input(setup);
	fuzz_lua_bytes(L, "check", data, size, "redis reply");
	return 0;
}
