/*
 * lua-sproto.h — sproto.core (lua-sproto.c, sproto_encode.c and
 * sproto_decode.c over sproto_wire.c and sproto_schema.c).
 *
 * Built twice: into snlua (registered in package.preload) and into
 * luaclib/sproto.so, which a stock lua5.4 interpreter loads for
 * `require "sproto.core"` (Lua's all-in-one loader finds luaopen_sproto_core
 * in sproto.so), so plain Lua clients speak sproto with the same code.
 */
#ifndef SKIFF_LUA_SPROTO_H
#define SKIFF_LUA_SPROTO_H

#include <lua.h>

int luaopen_sproto_core(lua_State *L);

#endif
