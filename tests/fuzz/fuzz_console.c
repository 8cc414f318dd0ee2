/*
 * fuzz_console.c — the debug console's line parsing (services/debug_console.lua).
 *
 * The console has no parser module of its own: a command line is split into
 * words by the local function split_words, and an HTTP path segment is decoded
 * by url_decode, both plain Lua with no skynet API.  This target cuts those two
 * functions out of the service's source text (so it always tests the code the
 * node runs) and loads them into a plain Lua state.  What the commands then do
 * with their words needs a running node; tests/multinode and tests/obs drive
 * that over the console port.
 *
 * Input: the first byte picks the function, the rest is the line / segment.
 * Properties: split_words returns non-empty words without white space whose
 * concatenation with single spaces is the line with white-space runs folded
 * and the ends trimmed; url_decode never raises and never grows the text.
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "skiff_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the text from "local function <name>(" to the first line that is "end" */
static void cut(luaL_Buffer *b, const char *src, const char *name)
{
	char head[64];
	snprintf(head, sizeof(head), "local function %s(", name);
	const char *s = strstr(src, head);
	FUZZ_ASSERT(s != NULL);
	const char *e = strstr(s, "\nend\n");
	FUZZ_ASSERT(e != NULL);
	luaL_addlstring(b, s, (size_t)(e - s) + 5);
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

static lua_State *setup(void)
{
	lua_State *L = luaL_newstate();
	FUZZ_ASSERT(L != NULL);
	luaL_openlibs(L);
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
	cut(&b, src, "split_words");
	cut(&b, src, "url_decode");
	luaL_addstring(&b, "return split_words, url_decode\n");
	luaL_pushresult(&b);
	size_t len;
	const char *chunk = lua_tolstring(L, -1, &len);
	FUZZ_ASSERT(luaL_loadbuffer(L, chunk, len, "=debug_console parsing") == LUA_OK);
	lua_remove(L, -2);
	lua_call(L, 0, 2);
	lua_setglobal(L, "url_decode");
	lua_setglobal(L, "split_words");
	FUZZ_ASSERT(luaL_loadbuffer(L, checks, sizeof(checks) - 1, "=checks") == LUA_OK);
	lua_setglobal(L, "check_split");
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
	if (data[0] & 1) {
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
