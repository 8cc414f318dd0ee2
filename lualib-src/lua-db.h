/*
 * lua-db.h — the C parts of the database drivers:
 *   skynet.db.mysql.aux (lua-mysqlaux.c): SHA-256 and RSA-OAEP for MySQL's
 *     caching_sha2_password authentication;
 *   bson (lua-bson.c and bson_*.c): BSON documents, as skynet's bson module.
 */
#ifndef SKIFF_LUA_DB_H
#define SKIFF_LUA_DB_H

#include <lua.h>

int luaopen_skynet_db_mysql_aux(lua_State *L);
int luaopen_bson(lua_State *L);

#endif
