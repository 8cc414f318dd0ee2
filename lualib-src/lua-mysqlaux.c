/*
 * lua-mysqlaux.c — skynet.db.mysql.aux: the two primitives MySQL's
 * caching_sha2_password needs that skynet.crypt lacks.
 *
 *   aux.sha256(s)                 -> 32-byte digest
 *   aux.rsa_oaep_encrypt(pem, s)  -> ciphertext, or raises with OpenSSL's reason
 *
 * The server sends its RSA public key as PEM (SubjectPublicKeyInfo or PKCS#1);
 * the password, NUL-terminated and XORed with the nonce, is encrypted with
 * RSA-OAEP (SHA-1, MGF1-SHA-1), the padding the server decrypts with.
 */
#include <lauxlib.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdio.h>

#include "lua-db.h"

static int lsha256(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)s, n, md);
	lua_pushlstring(L, (const char *)md, sizeof(md));
	return 1;
}

/* the key from PEM text, SubjectPublicKeyInfo ("PUBLIC KEY", what MySQL
 * sends) or PKCS#1 ("RSA PUBLIC KEY"); NULL if neither parses */
static EVP_PKEY *read_key(const char *pem, size_t n)
{
	EVP_PKEY *key = NULL;
	OSSL_DECODER_CTX *dctx =
		OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	if (dctx == NULL)
		return NULL;
	const unsigned char *p = (const unsigned char *)pem;
	if (OSSL_DECODER_from_data(dctx, &p, &n) != 1)
		key = NULL;
	OSSL_DECODER_CTX_free(dctx);
	return key;
}

static int openssl_error(lua_State *L, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256];
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "unknown reason");
	ERR_clear_error();
	return luaL_error(L, "%s: %s", what, reason);
}

static int lrsa_oaep_encrypt(lua_State *L)
{
	size_t npem, n;
	const char *pem = luaL_checklstring(L, 1, &npem);
	const char *s = luaL_checklstring(L, 2, &n);
	if (npem > 65536)
		return luaL_error(L, "rsa_oaep_encrypt: public key too long (%d bytes)", (int)npem);
	EVP_PKEY *key = read_key(pem, npem);
	if (key == NULL)
		return openssl_error(L, "rsa_oaep_encrypt: not an RSA public key");
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t outlen = 0;
	int ok = ctx != NULL && EVP_PKEY_encrypt_init(ctx) == 1 &&
	         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	         EVP_PKEY_encrypt(ctx, NULL, &outlen, (const unsigned char *)s, n) == 1;
	/* on the stack: nothing to leak if Lua raises; 1 KiB holds RSA-8192 */
	unsigned char out[1024];
	ok = ok && outlen <= sizeof(out);
	ok = ok && EVP_PKEY_encrypt(ctx, out, &outlen, (const unsigned char *)s, n) == 1;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	if (!ok)
		return openssl_error(L, "rsa_oaep_encrypt");
	lua_pushlstring(L, (const char *)out, outlen);
	return 1;
}

int luaopen_skynet_db_mysql_aux(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "sha256", lsha256 },
		{ "rsa_oaep_encrypt", lrsa_oaep_encrypt },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
