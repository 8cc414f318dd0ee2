/*
 * lua-bson.c — the `bson` module: BSON documents (bsonspec.org) for Lua, with
 * skynet's API.
 *
 *   bson.encode(t)              -> bson object (userdata; tostring gives the bytes)
 *   bson.encode_order(k, v, ...)-> the same, keys in the order given
 *   bson.decode(b)              -> table; b is a bson object or a string of bytes
 *   b:decode()                  -> the same
 *   b:makeindex(); b.k = v      -> v overwrites field k in place (bson_index.c)
 *   bson.date(sec[, ms]), bson.timestamp(t[, inc]), bson.regex(p[, opt]),
 *   bson.binary(s[, subtype]), bson.objectid([hex24]), bson.int64(n),
 *   bson.null, bson.minkey, bson.maxkey, bson.type(v) -> name, values...
 *
 * Values without a Lua type of their own are strings that start with a NUL
 * byte then the BSON type byte ("\0\7" + 12 bytes is an ObjectId), as in
 * skynet:
 *   binary "\0\5" subtype data       objectid "\0\7" 12 bytes
 *   date   "\0\9" u32 seconds, or "\0\9" i64 milliseconds when the seconds
 *          form would lose something (negative, past 2106, not whole seconds)
 *   null "\0\10"  minkey "\0\255"  maxkey "\0\127"  undefined "\0\6"
 *   regex "\0\11" pattern NUL options NUL
 *   timestamp "\0\17" u32 increment, u32 seconds (both little-endian)
 *   int64 "\0\18" i64 (encoding only: decoding gives a Lua integer)
 *   dbpointer "\0\12", code "\0\13", symbol "\0\14", code_w_scope "\0\15",
 *   decimal128 "\0\19": the element's payload bytes as on the wire.
 * Integers encode as int32 when they fit, else int64; floats as double.
 * A table is an array when it has __len, or (without __pairs) when its first
 * key from next() is 1, or an integer within its length; else a document,
 * whose keys must be strings.
 *
 * Decoding checks every length against its container and every string for
 * UTF-8, and refuses unknown types: hostile bytes raise an error, never read
 * outside the input.  Nesting is limited to MAX_DEPTH both ways.
 *
 * This file holds the bson object's metatable and the module table; the
 * decoder is bson_decode.c, the encoder bson_encode.c, the constructors and
 * bson.type bson_values.c (shared declarations in bson_codec.h).
 */
#include <lauxlib.h>
#include <sodium.h>

#include "bson_codec.h"
#include "lua-db.h"

static const luaL_Reg doc_methods[] = {
	{ "decode", bson_ldecode },
	{ "makeindex", bson_lmakeindex },
	{ NULL, NULL },
};

static int ltostring(lua_State *L)
{
	void *ud = luaL_checkudata(L, 1, META);
	lua_pushlstring(L, ud, lua_rawlen(L, 1));
	return 1;
}

static int llen(lua_State *L)
{
	luaL_checkudata(L, 1, META);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
	return 1;
}

int luaopen_bson(lua_State *L)
{
	luaL_checkversion(L);
	if (sodium_init() < 0)
		return luaL_error(L, "bson: sodium_init failed");
	if (luaL_newmetatable(L, META)) {
		luaL_newlib(L, doc_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, ltostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushcfunction(L, llen);
		lua_setfield(L, -2, "__len");
		lua_pushcfunction(L, bson_lreplace);
		lua_setfield(L, -2, "__newindex");
	}
	lua_pop(L, 1);
	static const luaL_Reg l[] = {
		{ "encode", bson_lencode },
		{ "encode_order", bson_lencode_order },
		{ "decode", bson_ldecode },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	bson_values_register(L);
	static const char null[] = { 0, T_NULL }, minkey[] = { 0, (char)T_MINKEY },
			  maxkey[] = { 0, T_MAXKEY };
	lua_pushlstring(L, null, 2);
	lua_setfield(L, -2, "null");
	lua_pushlstring(L, minkey, 2);
	lua_setfield(L, -2, "minkey");
	lua_pushlstring(L, maxkey, 2);
	lua_setfield(L, -2, "maxkey");
	return 1;
}
