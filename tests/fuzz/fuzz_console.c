/*
 * fuzz_console.c — the debug console's parsing and its HTTP gatekeeper.
 *
 * The parts of the console that read outside bytes before anything runs are
 * plain Lua modules with no skynet API: skynet.console.commands (a command
 * line split into words), http.admin (a request head read with
 * http.internal's parser, a path segment URL-decoded) and
 * skynet.console.gate (the verdict on a request: Host, Origin, token, method,
 * content type).  This target loads them from the source tree into a plain
 * Lua state, so it always tests the code the node runs.  What the commands
 * then do needs a running node; tests/obs drive that over the console port
 * (obs_console_attack with a browser-like client).
 *
 * Input: the first byte picks the function (mod 3), the rest is the line /
 * segment / request head (request line and header lines, split at '\n' and
 * sent with CRLF line ends).
 * Properties: split_words returns non-empty words without white space whose
 * concatenation with single spaces is the line with white-space runs folded
 * and the ends trimmed; url_decode never raises and never grows the text;
 * reading and judging a head never raises, and the verdict lets a request
 * through only with an allowed Host, no foreign Origin, the exact token, a GET
 * naming a read-only (or unknown) command or a POST of the console's own
 * content type; or, without the token, a GET of a dashboard file whose name
 * is a plain file name (no folder, no "..").
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char checks[] = "local line = ...\n"
			     "local words = commands.split_words(line)\n"
			     "for _, w in ipairs(words) do\n"
			     "  assert(#w > 0 and not w:find('%s'))\n"
			     "end\n"
			     "local folded = line:gsub('%s+', ' '):gsub('^ ', ''):gsub(' $', '')\n"
			     "assert(table.concat(words, ' ') == folded)\n"
			     "return true\n";

/* The request is judged with a fixed token on port 7000; a verdict of 200
 * must hold up against the rules, checked here independently. */
static const char http_checks[] =
	"local text = ...\n"
	"local wire = text:gsub('\\n', '\\r\\n') .. '\\r\\n\\r\\n'\n"
	"local function readbytes(n)\n"
	"  if wire == '' then error('closed') end\n"
	"  local s\n"
	"  if n then s, wire = wire:sub(1, n), wire:sub(n + 1) else s, wire = wire, '' end\n"
	"  return s\n"
	"end\n"
	"local ok, req, st = pcall(admin.read_request, readbytes, 8192)\n"
	"if not ok then assert(req == 'closed', req) return true end\n"
	"if not req then assert(st == 400 or st == 413) return true end\n"
	"local TOKEN = 'fuzz-token-0123456789abcdef'\n"
	"local known = { kill = true, dbgcmd = true, list = true, stat = true, getenv = true }\n"
	"local ro = { list = true, stat = true, getenv = true }\n"
	"local policy = { token = TOKEN, port = 7000, hosts = { ['skiff.test'] = true },\n"
	"  equal = function(a, b) return a == b end,\n"
	"  readonly = function(n) return ro[n] == true end,\n"
	"  known = function(n) return known[n] == true end }\n"
	"local status, line, file = gate.verdict(req, policy)\n"
	"assert(type(status) == 'number')\n"
	"if status ~= 200 then assert(type(line) == 'string' and #line > 0) return true end\n"
	"local h = req.header\n"
	"assert(type(h.host) == 'string')\n"
	"if file then\n"
	"  assert(req.method == 'GET' and line == nil and file:match('^[%w_%-]+%.%a+$'), file)\n"
	"  assert(h.origin == nil or h.origin == 'http://' .. h.host)\n"
	"  return true\n"
	"end\n"
	"local name = h.host:lower():match('^(.-):?%d*$')\n"
	"assert(name == 'localhost' or name == 'skiff.test' or name:match('^%[') or name:match('^%d+%.%d+%.%d+%.%d+$'), h.host)\n"
	"local p = h.host:match(':(%d+)$')\n"
	"assert(p == nil or tonumber(p) == 7000 or name:match('^%['), h.host)\n"
	"assert(h.origin == nil or h.origin == 'http://' .. h.host)\n"
	"assert(type(h.authorization) == 'string' and h.authorization:find(TOKEN, 1, true))\n"
	"if req.method == 'GET' then\n"
	"  local w = commands.split_words(line)\n"
	"  local n = w[1] == 'json' and w[2] or w[1]\n"
	"  assert(n == nil or ro[n] or not known[n], line)\n"
	"else\n"
	"  assert(req.method == 'POST' and line == nil)\n"
	"  assert(h['content-type']:lower():find('application/x-skiff-command', 1, true))\n"
	"  assert(tonumber(h['content-length']) <= gate.BODY_MAX)\n"
	"end\n"
	"return true\n";

static lua_State *setup(void)
{
	lua_State *L = luaL_newstate();
	FUZZ_ASSERT(L != NULL);
	luaL_openlibs(L);
	static const char boot[] = "package.path = ... .. '/lualib/?.lua'\n"
				   "commands = require 'skynet.console.commands'\n"
				   "admin = require 'http.admin'\n"
				   "gate = require 'skynet.console.gate'\n";
	FUZZ_ASSERT(luaL_loadbuffer(L, boot, sizeof(boot) - 1, "=fuzz_console") == LUA_OK);
	lua_pushstring(L, SKIFF_SOURCE_ROOT);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		FUZZ_ASSERT(0);
	}
	FUZZ_ASSERT(luaL_loadbuffer(L, checks, sizeof(checks) - 1, "=checks") == LUA_OK);
	lua_setglobal(L, "check_split");
	FUZZ_ASSERT(luaL_loadbuffer(L, http_checks, sizeof(http_checks) - 1, "=http_checks") == LUA_OK);
	lua_setglobal(L, "check_http");
	static const char decode[] = "return admin.url_decode(...)\n";
	FUZZ_ASSERT(luaL_loadbuffer(L, decode, sizeof(decode) - 1, "=url_decode") == LUA_OK);
	lua_setglobal(L, "url_decode");
	return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	if (L == NULL)
		L = setup();
	if (size == 0)
		return 0;
	lua_settop(L, 0);
	if (data[0] % 3 == 2) {
		lua_getglobal(L, "check_http");
		lua_pushlstring(L, (const char *)data + 1, size - 1);
		if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
			fprintf(stderr, "gate.verdict: %s\n", lua_tostring(L, -1));
			FUZZ_ASSERT(0);
		}
	} else if (data[0] % 3 == 1) {
		lua_getglobal(L, "check_split");
		lua_pushlstring(L, (const char *)data + 1, size - 1);
		if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
			fprintf(stderr, "split_words: %s\n", lua_tostring(L, -1));
			FUZZ_ASSERT(0);
		}
	} else {
		lua_getglobal(L, "url_decode");
		lua_pushlstring(L, (const char *)data + 1, size - 1);
		if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
			fprintf(stderr, "url_decode: %s\n", lua_tostring(L, -1));
			FUZZ_ASSERT(0);
		}
		size_t n;
		FUZZ_ASSERT(lua_tolstring(L, -1, &n) != NULL);
		FUZZ_ASSERT(n <= size - 1);
	}
	lua_settop(L, 0);
	static unsigned runs;
	if (++runs % 256 == 0)
		lua_gc(L, LUA_GCCOLLECT);
	return 0;
}
