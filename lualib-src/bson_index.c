/*
 * bson_index.c — in-place replacement of top-level values of a bson object.
 *
 *   b:makeindex()      indexes b's top-level keys (once; again after nothing)
 *   b.key = value      overwrites that field's value in b's own bytes
 *
 * As in skynet, only values of a fixed size are replaced: numbers (a double
 * field takes any number, an int64 field any integer, an int32 field an
 * integer that fits), booleans, dates, timestamps and ObjectIds, each with a
 * value of the same BSON type.  The document never changes length, so every
 * offset in the index stays valid and no other field moves.  Anything else —
 * a key not in the index, a field of another type, an object not indexed —
 * raises and leaves the bytes as they were.
 *
 * The index is b's user value: a table key -> offset of the element's type
 * byte.  The object was made by bson_encode.c, so its elements are
 * well-formed; the walk still checks every step against the length.
 */
#include <lauxlib.h>
#include <string.h>

#include "bson_codec.h"

/* payload size of a replaceable type, 0 for the others */
static size_t fixed_size(int type)
{
	switch (type) {
	case T_BOOLEAN: return 1;
	case T_INT32: return 4;
	case T_DOUBLE:
	case T_INT64:
	case T_DATE:
	case T_TIMESTAMP: return 8;
	case T_OBJECTID: return 12;
	default: return 0;
	}
}

/* size of the payload of the element of `type` at p (n bytes left) */
static size_t payload_size(lua_State *L, int type, const uint8_t *p, size_t n)
{
	size_t fixed = fixed_size(type);
	if (fixed)
		return fixed;
	switch (type) {
	case T_NULL:
	case T_UNDEFINED:
	case T_MINKEY:
	case T_MAXKEY: return 0;
	case T_STRING:
	case T_CODE:
	case T_SYMBOL:
		if (n >= 4)
			return 4 + (size_t)get32(p);
		break;
	case T_DOCUMENT:
	case T_ARRAY:
	case T_CODEWS:
		if (n >= 4)
			return (size_t)get32(p);
		break;
	case T_BINARY:
		if (n >= 4)
			return 5 + (size_t)get32(p);
		break;
	case T_DBPOINTER:
		if (n >= 4)
			return 4 + (size_t)get32(p) + 12;
		break;
	case T_DECIMAL128: return 16;
	case T_REGEX: {
		const uint8_t *a = memchr(p, 0, n);
		const uint8_t *b = a ? memchr(a + 1, 0, n - (size_t)(a + 1 - p)) : NULL;
		if (b)
			return (size_t)(b + 1 - p);
		break;
	}
	default: break;
	}
	return (size_t)luaL_error(L, "bson: malformed element of type %d", type);
}

int bson_lmakeindex(lua_State *L)
{
	const uint8_t *doc = luaL_checkudata(L, 1, META);
	size_t len = lua_rawlen(L, 1);
	lua_createtable(L, 0, 8);
	size_t at = 4;
	while (at < len && doc[at] != 0) {
		int type = doc[at];
		const uint8_t *key = doc + at + 1;
		const uint8_t *end = memchr(key, 0, len - at - 1);
		if (end == NULL)
			return luaL_error(L, "bson: malformed key");
		size_t value = (size_t)(end + 1 - doc);
		size_t n = payload_size(L, type, doc + value, len - value);
		if (n > len - value)
			return luaL_error(L, "bson: element longer than its document");
		lua_pushlstring(L, (const char *)key, (size_t)(end - key));
		lua_pushinteger(L, (lua_Integer)at);
		lua_rawset(L, -3);
		at = value + n;
	}
	lua_setiuservalue(L, 1, 1);
	return 0;
}

/* b[key] = value (the object's __newindex) */
int bson_lreplace(lua_State *L)
{
	uint8_t *doc = luaL_checkudata(L, 1, META);
	size_t klen;
	const char *key = luaL_checklstring(L, 2, &klen);
	luaL_checkany(L, 3);
	if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE)
		return luaL_error(L, "bson: call makeindex before replacing %s", key);
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) != LUA_TNUMBER)
		return luaL_error(L, "bson: no field %s to replace", key);
	size_t at = (size_t)lua_tointeger(L, -1);
	lua_pop(L, 2);
	int type = doc[at];
	uint8_t *p = doc + at + 1 + klen + 1;
	size_t size = fixed_size(type);
	if (size == 0)
		return luaL_error(L, "bson: field %s (type %d) cannot be replaced in place", key, type);
	/* numbers keep the field's own number type */
	if (lua_type(L, 3) == LUA_TNUMBER) {
		if (type == T_DOUBLE) {
			double d = lua_tonumber(L, 3);
			uint64_t u;
			memcpy(&u, &d, sizeof(u));
			put64(p, u);
			return 0;
		}
		if (type == T_INT64 && lua_isinteger(L, 3)) {
			put64(p, (uint64_t)lua_tointeger(L, 3));
			return 0;
		}
	}
	bson_encode_element(L, 3);
	size_t n;
	const uint8_t *e = (const uint8_t *)lua_tolstring(L, -1, &n);
	/* a date given in seconds encodes as milliseconds: still 8 bytes */
	if (e[0] != type || n - 1 != size)
		return luaL_error(L, "bson: field %s (type %d) cannot take a value of type %d in place", key,
		                  type, e[0]);
	memcpy(p, e + 1, size);
	return 0;
}
