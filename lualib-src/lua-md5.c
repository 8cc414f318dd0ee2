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

#include <openssl/evp.h>

static int lsum(lua_State *L)
{
	return crypt_push_digest(L, EVP_md5(), "md5", 0);
}

static int lsumhexa(lua_State *L)
{
	return crypt_push_digest(L, EVP_md5(), "md5", 1);
}

static int lhmacmd5(lua_State *L)
{
	return crypt_push_hmac(L, EVP_md5(), 2, 1, "hmacmd5", 1);
}

static int lexor(lua_State *L)
{
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

int luaopen_md5(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "sum", lsum },   { "sumhexa", lsumhexa }, { "hmacmd5", lhmacmd5 },
		{ "exor", lexor }, { NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
