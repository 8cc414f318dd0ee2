/*
 * lua-crypt.h — skynet.crypt (lua-crypt.c) and md5 (lua-md5.c).
 *
 * Both files are built twice: into snlua (registered in package.preload) and
 * into luaclib/client.so, which a stock lua5.4 interpreter loads as
 * `client.crypt` (with `client.socket` from lua-clientsocket.c).
 */
#ifndef SKIFF_LUA_CRYPT_H
#define SKIFF_LUA_CRYPT_H

#include <lua.h>
#include <openssl/evp.h>

int luaopen_skynet_crypt(lua_State *L);
int luaopen_client_crypt(lua_State *L); /* the same table, for plain Lua */
int luaopen_md5(lua_State *L);
int luaopen_client_socket(lua_State *L); /* lua-clientsocket.c, client.so only */

/* For md5 (lua-md5.c) as well: push the digest of the string argument 1, or
 * the HMAC of argument text_arg under the key argument key_arg, as bytes or
 * (hex != 0) lowercase hex, and return 1; raise "<what> failed" when OpenSSL
 * does. */
int crypt_push_digest(lua_State *L, const EVP_MD *type, const char *what, int hex);
int crypt_push_hmac(lua_State *L, const EVP_MD *type, int key_arg, int text_arg, const char *what, int hex);

#endif
