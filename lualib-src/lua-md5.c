/*
 * lua-md5.c — the `md5` module skynet ships (keplerproject's md5 API):
 *   md5.sum(s)            16-byte MD5 digest
 *   md5.sumhexa(s)        the same as 32 lowercase hex digits
 *   md5.hmacmd5(data, key) RFC 2104 HMAC-MD5 as lowercase hex (note: data first)
 *   md5.exor(a, b)        a XOR b, equal lengths
 * MD5 and HMAC come from OpenSSL's libcrypto.
 */
#include "lua-crypt.h"

#include <lauxlib.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static void
push_hex(lua_State *L, const unsigned char *md, unsigned len) {
	static const char digits[] = "0123456789abcdef";
	char hex[2 * EVP_MAX_MD_SIZE];
	for (unsigned i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	lua_pushlstring(L, hex, 2 * (size_t)len);
}

static unsigned
digest(lua_State *L, unsigned char md[EVP_MAX_MD_SIZE]) {
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	unsigned len = 0;
	if (!EVP_Digest(s, sz, md, &len, EVP_md5(), NULL))
		luaL_error(L, "md5 failed (OpenSSL)");
	return len;
}

static int
lsum(lua_State *L) {
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = digest(L, md);
	lua_pushlstring(L, (const char *)md, len);
	return 1;
}

static int
lsumhexa(lua_State *L) {
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = digest(L, md);
	push_hex(L, md, len);
	return 1;
}

static int
lhmacmd5(lua_State *L) {
	size_t dsz, ksz;
	const char *data = luaL_checklstring(L, 1, &dsz);
	const char *key = luaL_checklstring(L, 2, &ksz);
	if (ksz > INT32_MAX)
		return luaL_error(L, "key too large");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (HMAC(EVP_md5(), key, (int)ksz, (const unsigned char *)data, dsz, md, &len) == NULL)
		return luaL_error(L, "hmacmd5 failed (OpenSSL)");
	push_hex(L, md, len);
	return 1;
}

static int
lexor(lua_State *L) {
	size_t la, lb;
	const char *a = luaL_checklstring(L, 1, &la);
	const char *b = luaL_checklstring(L, 2, &lb);
	luaL_argcheck(L, la == lb, 2, "lengths must be equal");
	luaL_Buffer buf;
	char *out = luaL_buffinitsize(L, &buf, la);
	for (size_t i = 0; i < la; i++)
		out[i] = a[i] ^ b[i];
	luaL_pushresultsize(&buf, la);
	return 1;
}

int
luaopen_md5(lua_State *L) {
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "sum", lsum },
		{ "sumhexa", lsumhexa },
		{ "hmacmd5", lhmacmd5 },
		{ "exor", lexor },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
