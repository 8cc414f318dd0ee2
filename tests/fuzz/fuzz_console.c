/*
 * fuzz_console.c — the debug console's parsing and its HTTP gatekeeper
 * (services/debug_console.lua).
 *
 * The console has no parser module of its own: a command line is split into
 * words by the local function split_words, an HTTP path segment is decoded by
 * url_decode, a request head is read by parse_request and judged by
 * http_verdict (Host, Origin, token, method, content type) before anything
 * runs; all plain Lua with no skynet API.  This target cuts those functions
 * (and the tables they use) out of the service's source text, so it always
 * tests the code the node runs, and loads them into a plain Lua state.  What
 * the commands then do needs a running node; tests/obs drive that over the
 * console port (obs_console_attack with a browser-like client).
 *
 * Input: the first byte picks the function (mod 3), the rest is the line /
 * segment / request head (request line and header lines, split at '\n').
 * Properties: split_words returns non-empty words without white space whose
 * concatenation with single spaces is the line with white-space runs folded
 * and the ends trimmed; url_decode never raises and never grows the text;
 * http_verdict never raises, and lets a request through only with an allowed
 * Host, no foreign Origin, the exact token, a GET naming a read-only (or
 * unknown) command or a POST of the console's own content type.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_lua.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the text from `head` to the end of the first `tail` after it */
static void cut_from(luaL_Buffer *b, const char *src, const char *head, const char *tail)
{
	const char *s = strstr(src, head);
	FUZZ_ASSERT(s != NULL);
	const char *e = strstr(s, tail);
	FUZZ_ASSERT(e != NULL);
	luaL_addlstring(b, s, (size_t)(e - s) + strlen(tail));
	luaL_addchar(b, '\n');
}

/* the text from "local function <name>(" to the first line that is "end" */
static void cut(luaL_Buffer *b, const char *src, const char *name)
{
	char head[64];
	snprintf(head, sizeof(head), "local function %s(", name);
	cut_from(b, src, head, "\nend\n");
}

static const char checks[] =
	"local line = ...\n"
	"local words = split_words(line)\n"
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
	"local lines = {}\n"
	"for l in (text .. '\\n'):gmatch('([^\\n]*)\\n') do lines[#lines + 1] = l end\n"
	"local first = table.remove(lines, 1) or ''\n"
	"local req = parse_request(first, lines)\n"
	"local TOKEN = 'fuzz-token-0123456789abcdef'\n"
	"local policy = { token = TOKEN, port = 7000, hosts = { ['skiff.test'] = true },\n"
	"  check_token = function(a, b) return a == b end,\n"
	"  known = function(n) return n == 'kill' or n == 'dbgcmd' or READ_ONLY[n] ~= nil end }\n"
	"local status, line = http_verdict(req, policy)\n"
	"assert(type(status) == 'number')\n"
	"if status ~= 200 then assert(type(line) == 'string' and #line > 0) return true end\n"
	"local h = req.headers\n"
	"assert(type(h.host) == 'string')\n"
	"local name = h.host:lower():match('^(.-):?%d*$')\n"
	"assert(name == 'localhost' or name == 'skiff.test' or name:match('^%[') or name:match('^%d+%.%d+%.%d+%.%d+$'), h.host)\n"
	"local p = h.host:match(':(%d+)$')\n"
	"assert(p == nil or tonumber(p) == 7000 or name:match('^%['), h.host)\n"
	"assert(h.origin == nil or h.origin == 'http://' .. h.host)\n"
	"assert(type(h.authorization) == 'string' and h.authorization:find(TOKEN, 1, true))\n"
	"if req.method == 'GET' then\n"
	"  local w = split_words(line)\n"
	"  local n = w[1] == 'json' and w[2] or w[1]\n"
	"  assert(n == nil or READ_ONLY[n] or (n ~= 'kill' and n ~= 'dbgcmd'), line)\n"
	"else\n"
	"  assert(req.method == 'POST' and line == nil)\n"
	"  assert(h['content-type']:lower():find('application/x-skiff-command', 1, true))\n"
	"end\n"
	"return true\n";

static lua_State *setup(void)
{
	lua_State *L = fuzz_lua_newstate();
	const char *path = SKIFF_SOURCE_ROOT "/services/debug_console.lua";
	FILE *f = fopen(path, "rb");
	FUZZ_ASSERT(f != NULL);
	static char src[1 << 17];
	size_t n = fread(src, 1, sizeof(src) - 1, f);
	fclose(f);
	FUZZ_ASSERT(n > 0 && n < sizeof(src) - 1);
	src[n] = '\0';
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	cut_from(&b, src, "local BODY_MAX", "\n");
	cut_from(&b, src, "local COMMAND_TYPE", "\n");
	cut_from(&b, src, "local READ_ONLY = {", "\n}\n");
	cut_from(&b, src, "local HEADER_KEEP = {", "}\n");
	cut(&b, src, "split_words");
	cut(&b, src, "url_decode");
	cut(&b, src, "path_command");
	cut(&b, src, "host_allowed");
	cut(&b, src, "http_verdict");
	cut(&b, src, "parse_request");
	luaL_addstring(&b, "_G.READ_ONLY = READ_ONLY\n"
		"return split_words, url_decode, parse_request, http_verdict\n");
	luaL_pushresult(&b);
	size_t len;
	const char *chunk = lua_tolstring(L, -1, &len);
	FUZZ_ASSERT(luaL_loadbuffer(L, chunk, len, "=debug_console parsing") == LUA_OK);
	lua_remove(L, -2);
	lua_call(L, 0, 4);
	lua_setglobal(L, "http_verdict");
	lua_setglobal(L, "parse_request");
	lua_setglobal(L, "url_decode");
	lua_setglobal(L, "split_words");
	FUZZ_ASSERT(luaL_loadbuffer(L, checks, sizeof(checks) - 1, "=checks") == LUA_OK);
	lua_setglobal(L, "check_split");
	FUZZ_ASSERT(luaL_loadbuffer(L, http_checks, sizeof(http_checks) - 1, "=http_checks") == LUA_OK);
	lua_setglobal(L, "check_http");
	fuzz_lua_trace(L);
	return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L = fuzz_lua_input(setup);
	if (size == 0)
		return 0;
	if (data[0] % 3 == 2) {
		lua_getglobal(L, "check_http");
		lua_pushlstring(L, (const char *)data + 1, size - 1);
		fuzz_lua_check(L, 1, 1, "http_verdict");
	} else if (data[0] % 3 == 1) {
		lua_getglobal(L, "check_split");
		lua_pushlstring(L, (const char *)data + 1, size - 1);
		fuzz_lua_check(L, 1, 1, "split_words");
	} else {
		lua_getglobal(L, "url_decode");
		lua_pushlstring(L, (const char *)data + 1, size - 1);
		fuzz_lua_check(L, 1, 1, "url_decode");
		size_t n;
		FUZZ_ASSERT(lua_tolstring(L, -1, &n) != NULL);
		FUZZ_ASSERT(n <= size - 1);
	}
	lua_settop(L, 0);
	fuzz_lua_done(L);
	return 0;
}
