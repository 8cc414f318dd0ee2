/*
 * test_dumplocals.c — lualib-src/dump_locals.c on real chunks and on damaged
 * ones, in a plain Lua state (no runtime needed).
 *
 * usage: test_dumplocals FILE.lua...   (every file of lualib/, say)
 * For each file: compile, dump with debug information, drop the local names;
 * then the result must load, its stripped dump must equal the original's
 * stripped dump (same code and constants), dumping it again with debug
 * information must give back exactly the rewritten bytes (the layout was
 * walked right), it must have no local names left but the same line numbers
 * and upvalue names. Truncations of the dump and a sweep of single-byte
 * changes must be refused or rewritten without reading out of bounds
 * (run it under ASan).
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_locals.h"

static int failures;

#define CHECK(cond, ...)                                                                                     \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			failures++;                                                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                 \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
		}                                                                                            \
	} while (0)

struct buf {
	char *p;
	size_t len;
};

static int writer(lua_State *L, const void *data, size_t sz, void *ud)
{
	(void)L;
	struct buf *b = ud;
	char *p = realloc(b->p, b->len + sz + 1);
	if (p == NULL)
		return 1;
	memcpy(p + b->len, data, sz);
	b->p = p;
	b->len += sz;
	return 0;
}

/* Dumps the function on top of the stack (left there); a dump that fails ends the test. */
static struct buf dump(lua_State *L, int strip)
{
	struct buf b = { NULL, 0 };
	if (lua_dump(L, writer, &b, strip) != 0 || b.p == NULL || b.len == 0) {
		fprintf(stderr, "FAIL: lua_dump failed\n");
		exit(1);
	}
	return b;
}

/*
 * A chunk with a parameter, a local, an upvalue and an error on a known line:
 * after the rewrite the parameter has no name, the upvalue keeps its name,
 * the active lines are the same and the error names its line.
 */
static const char probe_src[] = "local up = 40\n"
				"return function(a, b)\n"
				"  local c = a + b + up\n"
				"  if c > 100 then error('big') end\n"
				"  return c\n"
				"end\n";

static const char probe_check[] =
	"local full, rewritten = ...\n"
	"local f0 = assert(load(full, '=probe', 'b'))()\n"
	"local f1 = assert(load(rewritten, '=probe', 'b'))()\n"
	"assert(debug.getlocal(f0, 1) == 'a', 'the original has names')\n"
	"assert(debug.getlocal(f1, 1) == nil, 'parameter name dropped')\n"
	"assert(debug.getupvalue(f1, 1) == 'up', 'upvalue name kept')\n"
	"local l0, l1 = debug.getinfo(f0, 'L').activelines, debug.getinfo(f1, 'L').activelines\n"
	"for k in pairs(l0) do assert(l1[k], 'line ' .. k .. ' kept') end\n"
	"for k in pairs(l1) do assert(l0[k], 'no new line ' .. k) end\n"
	"assert(f1(1, 2) == 43, 'same code')\n"
	"local ok, err = pcall(f1, 100, 1)\n"
	"assert(not ok and err:find('^probe:4: big'), 'error names its line: ' .. tostring(err))\n";

static void check_probe(lua_State *L)
{
	lua_settop(L, 0);
	if (luaL_loadbuffer(L, probe_src, sizeof(probe_src) - 1, "=probe") != LUA_OK) {
		CHECK(0, "probe: %s", lua_tostring(L, -1));
		return;
	}
	struct buf full = dump(L, 0);
	char *work = malloc(full.len + 1);
	memcpy(work, full.p, full.len);
	size_t n = skiff_dump_drop_locals(work, full.len);
	CHECK(n > 0 && n < full.len, "probe: nothing dropped");
	lua_settop(L, 0);
	if (luaL_loadbuffer(L, probe_check, sizeof(probe_check) - 1, "=probe_check") != LUA_OK) {
		CHECK(0, "probe_check: %s", lua_tostring(L, -1));
	} else {
		lua_pushlstring(L, full.p, full.len);
		lua_pushlstring(L, work, n);
		CHECK(lua_pcall(L, 2, 0, 0) == LUA_OK, "probe: %s", lua_tostring(L, -1));
	}
	free(work);
	free(full.p);
}

static void check_file(lua_State *L, const char *path)
{
	lua_settop(L, 0);
	if (luaL_loadfile(L, path) != LUA_OK) {
		CHECK(0, "%s: %s", path, lua_tostring(L, -1));
		return;
	}
	struct buf full = dump(L, 0), stripped = dump(L, 1);
	char *work = malloc(full.len + 1);
	memcpy(work, full.p, full.len);
	size_t n = skiff_dump_drop_locals(work, full.len);
	CHECK(n > 0 && n <= full.len, "%s: rewrite refused", path);
	if (n > 0) {
		char *exact = malloc(n); /* exactly n bytes (n > 0): ASan sees an over-read */
		memcpy(exact, work, n);
		int st = luaL_loadbufferx(L, exact, n, path, "b");
		CHECK(st == LUA_OK, "%s: rewritten chunk does not load: %s", path, lua_tostring(L, -1));
		if (st == LUA_OK) {
			struct buf again = dump(L, 0), again_stripped = dump(L, 1);
			CHECK(again.len == n && memcmp(again.p, exact, n) == 0,
			      "%s: rewritten chunk dumps differently (%zu vs %zu bytes)", path, again.len, n);
			CHECK(again_stripped.len == stripped.len &&
			              memcmp(again_stripped.p, stripped.p, stripped.len) == 0,
			      "%s: code or constants changed", path);
			/* nothing left to drop: a second rewrite is the identity */
			size_t n2 = skiff_dump_drop_locals(again.p, again.len);
			CHECK(n2 == n && memcmp(again.p, exact, n) == 0, "%s: second rewrite changed bytes",
			      path);
			free(again.p);
			free(again_stripped.p);
		}
		free(exact);
	}
	/* damaged input: truncations (every length of a small chunk, a spread of a
	 * large one), and single-byte changes over the first 4 KiB */
	size_t stride = 1 + full.len / 4096;
	for (size_t cut = 0; cut < full.len; cut += (cut < 512 ? 1 : stride)) {
		char *t = malloc(cut ? cut : 1);
		memcpy(t, full.p, cut);
		CHECK(skiff_dump_drop_locals(t, cut) == 0, "%s: truncation at %zu accepted", path, cut);
		free(t);
	}
	size_t sweep = full.len < 4096 ? full.len : 4096;
	for (size_t i = 0; i < sweep; i++) {
		char *t = malloc(full.len);
		memcpy(t, full.p, full.len);
		t[i] = (char)(t[i] ^ 0xa5);
		size_t r = skiff_dump_drop_locals(t, full.len);
		CHECK(r <= full.len, "%s: flip at %zu grew the chunk", path, i);
		free(t);
	}
	free(work);
	free(full.p);
	free(stripped.p);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE.lua...\n", argv[0]);
		return 2;
	}
	lua_State *L = luaL_newstate();
	luaL_openlibs(L);
	check_probe(L);
	for (int i = 1; i < argc; i++)
		check_file(L, argv[i]);
	/* not a chunk at all */
	char text[] = "return 1";
	CHECK(skiff_dump_drop_locals(text, sizeof(text) - 1) == 0, "text accepted");
	lua_close(L);
	if (failures) {
		fprintf(stderr, "test_dumplocals: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_dumplocals: %d files OK\n", argc - 1);
	return 0;
}
