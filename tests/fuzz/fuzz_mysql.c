/*
 * fuzz_mysql.c — skynet.db.mysql's reply parsers (lualib/skynet/db/mysql.lua)
 * on bytes from a hostile server.
 *
 * The driver's source file is loaded as it is (so the target always tests the
 * code the node runs) and its reply readers, exported as mysql._wire, are fed
 * a fake socket over the input.  Input: the first byte picks the reader
 * (text result sets, binary result sets, compact rows, prepare reply,
 * handshake), the rest is the server's byte stream.
 * Properties: a reader returns a table, or raises an error that starts with
 * "mysql: " (a reply that breaks the protocol) or the fake socket's end of
 * data; any other error is a bug in the parser (a nil index, a bad unpack
 * that escaped the guard), and so is a result of the wrong shape.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_dbreply.h"
#include "lua-crypt.h"
#include "lua-db.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char checks[] =
	"local mysql = ...\n"
	"local wire = mysql._wire\n"
	"local function shape(r)\n"
	"  assert(type(r) == 'table', 'result is not a table')\n"
	"  if r.badresult then\n"
	"    assert(math.type(r.errno) == 'integer' and type(r.err) == 'string', 'badresult fields')\n"
	"  end\n"
	"  for _, v in ipairs(r) do assert(type(v) == 'table', 'row or result set is not a table') end\n"
	"end\n"
	"return function(mode, bytes)\n"
	"  local sock = fake_sock(bytes)\n"
	"  local ok, r = pcall(function()\n"
	"    if mode == 0 then return wire.read_results(sock, false, false)\n"
	"    elseif mode == 1 then return wire.read_results(sock, true, false)\n"
	"    elseif mode == 2 then return wire.read_results(sock, true, true)\n"
	"    elseif mode == 3 then return wire.read_prepare(sock)\n"
	"    else return wire.parse_handshake(bytes) end\n"
	"  end)\n"
	"  if ok then shape(r) return end\n"
	"  if type(r) == 'string' and (r:find('^mysql: ') or r == 'fuzz: end of data') then return end\n"
	"  error('unexpected error: ' .. tostring(r))\n"
	"end\n";

static lua_State *setup(void)
{
	lua_State *L = fuzz_lua_state();
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_skynet_crypt);
	lua_setfield(L, -2, "skynet.crypt");
	lua_pushcfunction(L, luaopen_skynet_db_mysql_aux);
	lua_setfield(L, -2, "skynet.db.mysql.aux");
	lua_pop(L, 1);
	fuzz_lua_checks_for(L, SKIFF_SOURCE_ROOT "/lualib/skynet/db/mysql.lua", checks, sizeof(checks) - 1);
	return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = fuzz_lua_input(setup);
	if (size == 0)
		return 0;
	lua_getglobal(L, "check");
	lua_pushinteger(L, data[0] % 5);
	lua_pushlstring(L, (const char *)data + 1, size - 1);
	fuzz_lua_check(L, 2, 0, "mysql reply");
	fuzz_lua_done(L);
	return 0;
}
