/*
 * bson_encode.c — the `bson` module's encoder: a Lua table (or ordered key,
 * value pairs) to a bson object.
 *
 * Invariants: the output grows in a userdata whose __gc frees it, so an error
 * raised in the middle of encoding leaks nothing; keys and strings are
 * checked for UTF-8 and NUL bytes as BSON requires; nesting stops at
 * MAX_DEPTH.
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bson_codec.h"

/* The growing output, in a userdata whose __gc frees it: an error raised
 * in the middle of encoding leaks nothing. */
struct out {
	uint8_t *p;
	size_t n, cap;
};

static int out_gc(lua_State *L)
{
	struct out *o = lua_touserdata(L, 1);
	free(o->p);
	o->p = NULL;
	return 0;
}

static uint8_t *grow(lua_State *L, struct out *o, size_t n)
{
	if (o->cap - o->n < n) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap - o->n < n) {
			if (cap > INT32_MAX)
				luaL_error(L, "bson document larger than 2 GiB");
			cap *= 2;
		}
		uint8_t *p = realloc(o->p, cap);
		if (p == NULL)
			luaL_error(L, "bson: out of memory");
		o->p = p;
		o->cap = cap;
	}
	uint8_t *at = o->p + o->n;
	o->n += n;
	return at;
}

static void put_bytes(lua_State *L, struct out *o, const void *s, size_t n)
{
	if (n > 0 && s != NULL)
		memcpy(grow(L, o, n), s, n);
}

static void put_byte(lua_State *L, struct out *o, uint8_t b)
{
	*grow(L, o, 1) = b;
}

static void put_i32(lua_State *L, struct out *o, uint32_t v)
{
	put32(grow(L, o, 4), v);
}

static void put_i64(lua_State *L, struct out *o, uint64_t v)
{
	put64(grow(L, o, 8), v);
}

static void put_key(lua_State *L, struct out *o, int type, const char *key, size_t klen)
{
	if (memchr(key, 0, klen) != NULL)
		luaL_error(L, "bson key contains a NUL byte");
	if (!bson_utf8_valid((const uint8_t *)key, klen))
		luaL_error(L, "Invalid utf8 string (key)");
	put_byte(L, o, (uint8_t)type);
	put_bytes(L, o, key, klen);
	put_byte(L, o, 0);
}

static void encode_table(lua_State *L, struct out *o, const char *key, size_t klen, int depth);

static void encode_special(lua_State *L, struct out *o, const char *key, size_t klen, const uint8_t *s,
                           size_t n)
{
	int type = s[1];
	const uint8_t *p = s + 2;
	n -= 2;
	switch (type) {
	case T_BINARY: {
		if (n < 1)
			luaL_error(L, "Invalid binary: no subtype");
		if (n - 1 > INT32_MAX)
			luaL_error(L, "binary larger than 2 GiB");
		put_key(L, o, type, key, klen);
		put_i32(L, o, (uint32_t)(n - 1));
		put_bytes(L, o, p, n);
		return;
	}
	case T_OBJECTID:
		if (n != 12)
			luaL_error(L, "Invalid object id");
		break;
	case T_DATE:
		put_key(L, o, type, key, klen);
		if (n == 4)
			put_i64(L, o, (uint64_t)get32(p) * 1000);
		else if (n == 8)
			put_bytes(L, o, p, 8);
		else
			luaL_error(L, "Invalid date");
		return;
	case T_TIMESTAMP:
		if (n != 8)
			luaL_error(L, "Invalid timestamp");
		break;
	case T_INT64:
		if (n != 8)
			luaL_error(L, "Invalid int64");
		break;
	case T_NULL:
	case T_MINKEY:
	case T_MAXKEY:
	case T_UNDEFINED:
		if (n != 0)
			luaL_error(L, "Invalid bson value of type %d: no payload expected", type);
		break;
	case T_REGEX:
	case T_DBPOINTER:
	case T_CODE:
	case T_SYMBOL:
	case T_CODEWS:
	case T_DECIMAL128: bson_check_payload(L, type, p, n); break;
	default: luaL_error(L, "Invalid subtype %d", type);
	}
	put_key(L, o, type, key, klen);
	put_bytes(L, o, p, n);
}

/* the value at the top of the stack, under `key` */
static void encode_value(lua_State *L, struct out *o, const char *key, size_t klen, int depth)
{
	int t = lua_type(L, -1);
	switch (t) {
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1)) {
			lua_Integer i = lua_tointeger(L, -1);
			if (i >= INT32_MIN && i <= INT32_MAX) {
				put_key(L, o, T_INT32, key, klen);
				put_i32(L, o, (uint32_t)(int32_t)i);
			} else {
				put_key(L, o, T_INT64, key, klen);
				put_i64(L, o, (uint64_t)i);
			}
		} else {
			double d = lua_tonumber(L, -1);
			uint64_t u;
			memcpy(&u, &d, sizeof(u));
			put_key(L, o, T_DOUBLE, key, klen);
			put_i64(L, o, u);
		}
		break;
	case LUA_TBOOLEAN:
		put_key(L, o, T_BOOLEAN, key, klen);
		put_byte(L, o, (uint8_t)lua_toboolean(L, -1));
		break;
	case LUA_TSTRING: {
		size_t n;
		const uint8_t *s = (const uint8_t *)lua_tolstring(L, -1, &n);
		if (n >= 2 && s[0] == 0) {
			encode_special(L, o, key, klen, s, n);
			break;
		}
		if (!bson_utf8_valid(s, n))
			luaL_error(L, "Invalid utf8 string");
		if (n >= INT32_MAX)
			luaL_error(L, "string larger than 2 GiB");
		put_key(L, o, T_STRING, key, klen);
		put_i32(L, o, (uint32_t)(n + 1));
		put_bytes(L, o, s, n);
		put_byte(L, o, 0);
		break;
	}
	case LUA_TTABLE: encode_table(L, o, key, klen, depth + 1); break;
	case LUA_TUSERDATA: {
		/* an encoded document, embedded as it is */
		void *ud = luaL_testudata(L, -1, META);
		if (ud == NULL)
			luaL_error(L, "Invalid value type : userdata");
		put_key(L, o, T_DOCUMENT, key, klen);
		put_bytes(L, o, ud, lua_rawlen(L, -1));
		break;
	}
	case LUA_TNIL: luaL_error(L, "Bson array has a hole (nil), Use bson.null instead"); break;
	default: luaL_error(L, "Invalid value type : %s", lua_typename(L, t));
	}
}

/* start a document: its length is patched by doc_end */
static size_t doc_begin(lua_State *L, struct out *o)
{
	size_t at = o->n;
	grow(L, o, 4);
	return at;
}

static void doc_end(lua_State *L, struct out *o, size_t at)
{
	put_byte(L, o, 0);
	put32(o->p + at, (uint32_t)(o->n - at));
}

/* the key/value pair at -2/-1 of a document; pops the value */
static void encode_pair(lua_State *L, struct out *o, int depth)
{
	int kt = lua_type(L, -2);
	if (kt == LUA_TNUMBER)
		luaL_error(L, "Bson dictionary's key can't be number");
	if (kt != LUA_TSTRING)
		luaL_error(L, "Invalid key type : %s", lua_typename(L, kt));
	size_t klen;
	const char *key = lua_tolstring(L, -2, &klen);
	encode_value(L, o, key, klen, depth);
	lua_pop(L, 1);
}

static void encode_array_body(lua_State *L, struct out *o, lua_Integer len, int depth)
{
	size_t at = doc_begin(L, o);
	for (lua_Integer i = 1; i <= len; i++) {
		char key[24];
		int klen = snprintf(key, sizeof(key), "%lld", (long long)(i - 1));
		lua_geti(L, -1, i);
		encode_value(L, o, key, (size_t)klen, depth);
		lua_pop(L, 1);
	}
	doc_end(L, o, at);
}

/* the table at the top: its pairs, by __pairs when it has one */
static void encode_dict_body(lua_State *L, struct out *o, int depth)
{
	size_t at = doc_begin(L, o);
	if (luaL_getmetafield(L, -1, "__pairs") != LUA_TNIL) {
		lua_pushvalue(L, -2);
		lua_call(L, 1, 3); /* next, state, control */
		for (;;) {
			lua_pushvalue(L, -3);
			lua_pushvalue(L, -3);
			lua_pushvalue(L, -3);
			lua_call(L, 2, 2); /* k, v */
			if (lua_isnil(L, -2)) {
				lua_pop(L, 5);
				break;
			}
			encode_pair(L, o, depth); /* leaves k */
			lua_replace(L, -2);       /* k is the new control */
		}
	} else {
		lua_pushnil(L);
		while (lua_next(L, -2) != 0)
			encode_pair(L, o, depth);
	}
	doc_end(L, o, at);
}

/* an array when __len says so, or when the first key next() gives is 1 or an
 * integer within the table's border; an empty table is a document */
static int array_length(lua_State *L, lua_Integer *len)
{
	if (luaL_getmetafield(L, -1, "__len") != LUA_TNIL) {
		lua_pushvalue(L, -2);
		lua_call(L, 1, 1);
		if (!lua_isinteger(L, -1))
			luaL_error(L, "__len should return integer");
		*len = lua_tointeger(L, -1);
		lua_pop(L, 1);
		return 1;
	}
	if (luaL_getmetafield(L, -1, "__pairs") != LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushnil(L);
	if (lua_next(L, -2) == 0)
		return 0;
	lua_Integer first = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
	lua_pop(L, 2);
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	if (first >= 1 && first <= n) {
		*len = n;
		return 1;
	}
	return 0;
}

static void encode_table(lua_State *L, struct out *o, const char *key, size_t klen, int depth)
{
	if (depth > MAX_DEPTH)
		luaL_error(L, "Too depth while encoding bson");
	luaL_checkstack(L, 16, "bson nesting");
	lua_Integer len;
	if (array_length(L, &len)) {
		put_key(L, o, T_ARRAY, key, klen);
		encode_array_body(L, o, len, depth);
	} else {
		put_key(L, o, T_DOCUMENT, key, klen);
		encode_dict_body(L, o, depth);
	}
}

/* a new output at the top of the stack */
static struct out *new_out(lua_State *L)
{
	struct out *o = lua_newuserdatauv(L, sizeof(*o), 0);
	o->p = NULL;
	o->n = o->cap = 0;
	if (luaL_newmetatable(L, "bson.out")) {
		lua_pushcfunction(L, out_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return o;
}

/* the finished output as a new bson object (the output's own buffer is freed
 * now; its userdata goes with the next collection).  Its one user value is
 * the key index that makeindex builds (bson_index.c). */
static int finish(lua_State *L, struct out *o)
{
	void *ud = lua_newuserdatauv(L, o->n, 1);
	memcpy(ud, o->p, o->n);
	luaL_setmetatable(L, META);
	free(o->p);
	o->p = NULL;
	return 1;
}

int bson_lencode(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	struct out *o = new_out(L);
	lua_pushvalue(L, 1);
	encode_dict_body(L, o, 0);
	lua_pop(L, 1);
	return finish(L, o);
}

int bson_lencode_order(lua_State *L)
{
	int n = lua_gettop(L);
	if (n % 2 != 0)
		return luaL_error(L, "Invalid ordered dict");
	struct out *o = new_out(L);
	size_t at = doc_begin(L, o);
	for (int i = 1; i <= n; i += 2) {
		if (lua_type(L, i) != LUA_TSTRING)
			return luaL_error(L, "Argument %d need a string", i);
		size_t klen;
		const char *key = lua_tolstring(L, i, &klen);
		lua_pushvalue(L, i + 1);
		encode_value(L, o, key, klen, 0);
		lua_pop(L, 1);
	}
	doc_end(L, o, at);
	return finish(L, o);
}

void bson_encode_element(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	struct out *o = new_out(L);
	lua_pushvalue(L, idx);
	encode_value(L, o, "", 0, 0);
	lua_pop(L, 1);
	if (o->p == NULL || o->n < 2) { /* encode_value wrote at least a type and the key's NUL */
		luaL_error(L, "bson: nothing encoded");
		return; /* not reached: luaL_error does not return */
	}
	/* [type][NUL of the empty key][payload] -> [type][payload] */
	o->p[1] = o->p[0];
	lua_pushlstring(L, (const char *)o->p + 1, o->n - 1);
	free(o->p);
	o->p = NULL;
	lua_remove(L, -2);
}
