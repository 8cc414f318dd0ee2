/*
 * lua-seri.h — skynet.pack / skynet.unpack (the "lua" protocol payload format).
 *
 * The byte format is skynet's, always little-endian:
 * a stream is a concatenation of tagged values, tag = type | cookie << 3.
 * These are plain lua_CFunctions so other modules (cluster, multicast) can
 * reuse them as they are or call them on their own stack.
 */
#ifndef SKIFF_LUA_SERI_H
#define SKIFF_LUA_SERI_H

#include <lua.h>

/*
 * pack(...) -> lightuserdata, size
 * The buffer comes from skynet_malloc and belongs to the caller (hand it to
 * skynet_send with PTYPE_TAG_DONTCOPY, or skynet_free it). Raises
 * "serialize can't pack too depth table" / "Unsupport type %s to serialize".
 */
int luaseri_pack(lua_State *L);

/* packstring(...) -> string; the same bytes as pack, with no C buffer left over. */
int luaseri_packstring(lua_State *L);

/*
 * unpack(msg, size) or unpack(string) -> values...
 * Never reads outside [msg, msg + size); a malformed stream raises
 * "Invalid serialize stream %d (line:%d)" (bytes left, source line).
 */
int luaseri_unpack(lua_State *L);

#endif
