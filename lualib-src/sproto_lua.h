/*
 * sproto_lua.h — what the three files of sproto.core share: the limits, the
 * argument helpers (lua-sproto.c) and the two halves of the codec
 * (sproto_encode.c, sproto_decode.c).  Internal to sproto.core; the module's
 * public entry point is in lua-sproto.h.
 *
 * A type argument is a light userdata pointing into a schema that the caller
 * keeps alive (sproto.lua does); NULL is "no content".
 */
#ifndef SKIFF_SPROTO_LUA_H
#define SKIFF_SPROTO_LUA_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "sproto_wire.h"

#define MAX_DEPTH 64
#define MAX_ENCODE (16 * 1024 * 1024)
#define SCRATCH_KEEP (1024 * 1024) /* larger scratch buffers are not kept */

/* A type argument: NULL for nil or a NULL light userdata ("no content");
 * raises on anything else that is not a type. */
const struct spw_type *sproto_opt_type(lua_State *L, int idx);
/* A message argument at idx: a string, or a (light) userdata and a size.
 * Sets *len and *next (the index of the argument after it). */
const uint8_t *sproto_get_msg(lua_State *L, int idx, size_t *len, int *next);

/* encode(type, table) -> string; upvalue 1 is the scratch userdata. */
int sproto_l_encode(lua_State *L);
/* decode(type, msg[, sz][, table]) -> table, bytes used */
int sproto_l_decode(lua_State *L);

#endif
