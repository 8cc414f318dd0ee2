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

#include "preload.h"

/* ---- SHA-1 ---- */

struct sha1 {
	uint32_t h[5];
	uint64_t length;     /* bytes hashed so far */
	uint8_t block[64];
	size_t used;         /* bytes waiting in block, < 64 */
};

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(struct sha1 *s, const uint8_t *p)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999u;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1u;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDCu;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6u;
		}
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu,
		0x10325476u, 0xC3D2E1F0u };
	memcpy(s->h, iv, sizeof(iv));
	s->length = 0;
	s->used = 0;
}

static void sha1_update(struct sha1 *s, const uint8_t *p, size_t n)
{
	s->length += n;
	while (n > 0) {
		size_t take = 64 - s->used;
		if (take > n)
			take = n;
		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used == 64) {
			sha1_block(s, s->block);
			s->used = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, uint8_t out[20])
{
	uint64_t bits = s->length * 8;
	uint8_t pad = 0x80;
	sha1_update(s, &pad, 1);
	pad = 0;
	while (s->used != 56)
		sha1_update(s, &pad, 1);
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, len, 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

static int lsha1(lua_State *L)
{
	size_t n;
	const char *p = luaL_checklstring(L, 1, &n);
	struct sha1 s;
	uint8_t out[20];
	sha1_init(&s);
	sha1_update(&s, (const uint8_t *)p, n);
	sha1_final(&s, out);
	lua_pushlstring(L, (const char *)out, sizeof(out));
	return 1;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int lb64encode(lua_State *L)
{
	size_t n;
	const uint8_t *p = (const uint8_t *)luaL_checklstring(L, 1, &n);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, (n + 2) / 3 * 4);
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = '=';
	}
	luaL_pushresultsize(&b, o);
	return 1;
}

static int b64value(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
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
	if (n >= 1 && p[n - 1] == '=') pad++;
	if (n >= 2 && p[n - 2] == '=') pad++;
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
			v[j] = b64value((unsigned char)p[i + j]);
			if (v[j] < 0) {
				lua_pushnil(L);
				return 1;
			}
		}
		uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
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
		{ "sha1", lsha1 },
		{ "base64encode", lb64encode },
		{ "base64decode", lb64decode },
		{ "mask", lmask },
		{ "randomkey", lrandomkey },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
