/*
 * lua-wscore.c — http.wscore: the byte work of WebSocket (RFC 6455) that is
 * slow or awkward in Lua:
 *   sha1(s)              20-byte SHA-1 digest (FIPS 180-4), for the accept key
 *   base64encode(s)      standard alphabet with '=' padding (RFC 4648 §4)
 *   base64decode(s)      the inverse, or nil for text that is not canonical
 *                        base64 (wrong length, wrong character, bad padding)
 *   mask(data, key[, offset])  data XOR the 4-byte key repeated, starting at
 *                        key byte offset%4 (masking is its own inverse)
 *   randomkey(n)         n random bytes from getrandom(2) (never blocks once
 *                        the kernel pool is initialised, which is at boot)
 * Nothing here keeps state; every result is a new Lua string.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "base64.h"
#include "preload.h"
#include "sha1.h"

/* ---- SHA-1 (sha1.c) ---- */

static int lsha1(lua_State *L)
{
	size_t n;
	const char *p = luaL_checklstring(L, 1, &n);
	uint8_t out[SKIFF_SHA1_SIZE];
	skiff_sha1(p, n, out);
	lua_pushlstring(L, (const char *)out, sizeof(out));
	return 1;
}

/* ---- base64 ---- */

static int lb64encode(lua_State *L)
{
	size_t n;
	const uint8_t *p = (const uint8_t *)luaL_checklstring(L, 1, &n);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, SKIFF_BASE64_SIZE(n));
	luaL_pushresultsize(&b, skiff_base64_encode(p, n, out));
	return 1;
}

static int lb64decode(lua_State *L)
{
	size_t n;
	const char *p = luaL_checklstring(L, 1, &n);
	if (n % 4 != 0) {
		lua_pushnil(L);
		return 1;
	}
	size_t pad = 0;
	if (n >= 1 && p[n - 1] == '=')
		pad++;
	if (n >= 2 && p[n - 2] == '=')
		pad++;
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, n / 4 * 3);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int last = i + 4 == n;
		for (int j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				v[j] = 0;
				continue;
			}
			v[j] = skiff_base64_value((unsigned char)p[i + j]);
			if (v[j] < 0) {
				lua_pushnil(L);
				return 1;
			}
		}
		uint32_t x =
			(uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		out[o++] = (char)(x >> 16);
		if (!last || pad < 2)
			out[o++] = (char)(x >> 8);
		if (!last || pad < 1)
			out[o++] = (char)x;
		/* canonical: the bits under the padding are zero */
		if (last && ((pad == 2 && (v[1] & 15)) || (pad == 1 && (v[2] & 3)))) {
			lua_pushnil(L);
			return 1;
		}
	}
	luaL_pushresultsize(&b, o);
	return 1;
}

/* ---- masking ---- */

static int lmask(lua_State *L)
{
	size_t n, kn;
	const uint8_t *p = (const uint8_t *)luaL_checklstring(L, 1, &n);
	const uint8_t *k = (const uint8_t *)luaL_checklstring(L, 2, &kn);
	luaL_argcheck(L, kn == 4, 2, "the key is 4 bytes");
	lua_Integer offset = luaL_optinteger(L, 3, 0);
	luaL_argcheck(L, offset >= 0, 3, "negative offset");
	uint8_t key[8];
	for (int i = 0; i < 8; i++)
		key[i] = k[(i + offset) & 3];
	luaL_Buffer b;
	uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, n);
	/* eight bytes a step: the key pattern repeats every 4, so every 8 too */
	uint64_t k8;
	memcpy(&k8, key, 8);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		v ^= k8;
		memcpy(out + i, &v, 8);
	}
	for (; i < n; i++)
		out[i] = p[i] ^ key[i & 7];
	luaL_pushresultsize(&b, n);
	return 1;
}

static int lrandomkey(lua_State *L)
{
	lua_Integer n = luaL_optinteger(L, 1, 8);
	luaL_argcheck(L, n > 0 && n <= 256, 1, "1..256 bytes");
	uint8_t buf[256];
	size_t got = 0;
	while (got < (size_t)n) {
		ssize_t r = getrandom(buf + got, (size_t)n - got, 0);
		if (r < 0)
			return luaL_error(L, "getrandom failed");
		got += (size_t)r;
	}
	lua_pushlstring(L, (const char *)buf, (size_t)n);
	return 1;
}

int luaopen_http_wscore(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "sha1", lsha1 }, { "base64encode", lb64encode }, { "base64decode", lb64decode },
		{ "mask", lmask }, { "randomkey", lrandomkey },    { NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
