/*
 * fuzz_http.c — the HTTP/1.1 and WebSocket parsers of lualib/http/internal.lua.
 *
 * http.internal is plain Lua that reads through a function, with no skynet
 * API, so this target loads the very file the node runs into a plain Lua
 * state (with http.wscore, the C masking, compiled in) and feeds it the input
 * through a read function that serves the bytes in steps and raises a
 * sentinel at the end.
 *
 * Input: byte 0 = mode (low 2 bits) | step (read() returns up to 1 + (b >> 2)
 * bytes, so a header or chunk line splits at every place); the rest is what
 * the peer sent.
 *   mode 0  requests, one after the other as on a kept-alive connection
 *           (internal.readrequest, body limit 64 KiB)
 *   mode 1  WebSocket messages read by a server (frames must be masked)
 *   mode 2  WebSocket messages read by a client (frames must not be)
 *   mode 3  an HTTP response read by a client (internal.request + response)
 * Lua line-pair coverage is fed to libFuzzer (see lua_edges below).
 * Properties: the parsers end only by returning, by the end of input, by a
 * WebSocket protocol error (WSERR, carrying a close code) or, in mode 3, by an
 * error they raise on purpose — never by a Lua runtime error ("attempt to
 * ...", "bad argument ..."), a crash or a hang.  What they return is well
 * formed: lower-case field names, bodies within the limit, text messages that
 * are UTF-8, messages within the frame limit, close codes RFC 6455 allows.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_lua.h"
#include "preload.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char driver[] =
	"local internal, mask = ...\n"
	"local EOF = setmetatable({}, { __tostring = function() return 'EOF' end })\n"
	"local function run(mode, step, data)\n"
	"  local pos = 1\n"
	"  local function read(n)\n"
	"    if n == nil then\n"
	"      if pos > #data then error(EOF, 0) end\n"
	"      local s = data:sub(pos, pos + step - 1)\n"
	"      pos = pos + #s\n"
	"      return s\n"
	"    end\n"
	"    if pos + n - 1 > #data then error(EOF, 0) end\n"
	"    local s = data:sub(pos, pos + n - 1)\n"
	"    pos = pos + n\n"
	"    return s\n"
	"  end\n"
	"  if mode == 0 then\n"
	"    for _ = 1, 64 do\n"
	"      local code, target, method, header, body, version, rest =\n"
	"        internal.readrequest(read, 65536, function() end)\n"
	"      if code ~= 200 then\n"
	"        assert(math.type(code) == 'integer' and code >= 400 and type(target) == 'string')\n"
	"        return\n"
	"      end\n"
	"      assert(type(target) == 'string' and not target:find('%s'))\n"
	"      assert(type(method) == 'string' and #body <= 65536 and version >= 1.0 and version < 2)\n"
	"      for k, v in pairs(header) do\n"
	"        assert(k == k:lower() and (type(v) == 'string' or type(v) == 'table'))\n"
	"      end\n"
	"      internal.keepalive(header, version)\n"
	"      data = rest .. data:sub(pos)\n"
	"      pos = 1\n"
	"    end\n"
	"  elseif mode == 1 or mode == 2 then\n"
	"    local st = {}\n"
	"    for _ = 1, 4096 do\n"
	"      local kind, a, b = internal.ws_read_message(st, read, mode == 1, 4096, mask)\n"
	"      assert(type(a) == 'string' and #a <= 4096)\n"
	"      if kind == 'text' then assert(utf8.len(a))\n"
	"      elseif kind == 'close' then assert(b == nil or internal.valid_close_code(b))\n"
	"      else assert(kind == 'binary' or kind == 'ping' or kind == 'pong') end\n"
	"    end\n"
	"  else\n"
	"    local iface = { read = read, write = function() end,\n"
	"      readall = function() local s = data:sub(pos); pos = #data + 1; return s end }\n"
	"    local code, rest, header = internal.request(iface, 'GET', 'h', '/', nil, nil, nil)\n"
	"    assert(code >= 100 and code <= 999)\n"
	"    local body = internal.response(iface, code, rest, header, 'GET')\n"
	"    assert(type(body) == 'string')\n"
	"  end\n"
	"end\n"
	"return function(mode, step, data)\n"
	"  local ok, err = pcall(run, mode, step, data)\n"
	"  if ok or err == EOF or getmetatable(err) == internal.WSERR then return true end\n"
	"  err = tostring(err)\n"
	"  -- what follows the position tells our own error() from a runtime error\n"
	"  local what = mode == 3 and err:match('^[^:]*internal%.lua:%d+: (.*)$')\n"
	"  if what then\n"
	"    for _, bug in ipairs { 'attempt to', 'bad argument', 'number has no', 'invalid',\n"
	"                          'string length', 'table index', 'stack overflow' } do\n"
	"      if what:sub(1, #bug) == bug then return false, err end\n"
	"    end\n"
	"    return true\n"
	"  end\n"
	"  return false, err\n"
	"end\n";

static lua_State *setup(void)
{
	lua_State *L = fuzz_lua_newstate();
	luaL_requiref(L, "http.wscore", luaopen_http_wscore, 0);
	lua_getfield(L, -1, "mask");
	lua_remove(L, -2);
	const char *path = SKIFF_SOURCE_ROOT "/lualib/http/internal.lua";
	if (luaL_loadfile(L, path) != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		FUZZ_ASSERT(0);
	}
	lua_call(L, 0, 1); /* mask, internal */
	lua_insert(L, -2); /* internal, mask */
	FUZZ_ASSERT(luaL_loadbuffer(L, driver, sizeof(driver) - 1, "=fuzz_http") == LUA_OK);
	lua_insert(L, -3);
	lua_call(L, 2, 1);
	lua_setglobal(L, "check");
	fuzz_lua_trace(L);
	return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = fuzz_lua_input(setup);
	if (size == 0)
		return 0;
	lua_getglobal(L, "check");
	lua_pushinteger(L, data[0] & 3);
	lua_pushinteger(L, 1 + (data[0] >> 2));
	lua_pushlstring(L, (const char *)data + 1, size - 1);
	fuzz_lua_check(L, 3, 2, "http parsers");
	if (!lua_toboolean(L, 1)) {
		fprintf(stderr, "http parsers: %s\n", lua_tostring(L, -1));
		FUZZ_ASSERT(0);
	}
	lua_settop(L, 0);
	fuzz_lua_done(L);
	return 0;
}
