/*
 * hex.h — lowercase hexadecimal as skynet's modules write it and any case as
 * they read it: crypt.hexencode/hexdecode (lua-crypt.c), md5.sumhexa and
 * hmacmd5 (lua-md5.c), bson ObjectIds (bson_values.c).
 */
#ifndef SKIFF_HEX_H
#define SKIFF_HEX_H

#include <lauxlib.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the 2n hex digits of in[0..n) to out (no NUL). */
static inline void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

/* Pushes the hex digits of in[0..n) as a string; the caller keeps 2n within
 * size_t. */
static inline void hex_push(lua_State *L, const uint8_t *in, size_t n)
{
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, 2 * n);
	hex_encode(out, in, n);
	luaL_pushresultsize(&b, 2 * n);
}

/* The value of hex digit c (either case), or -1. */
static inline int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
