/*
 * bson_values.c — the `bson` module's values without a Lua type of their own
 * (date, timestamp, regex, binary, objectid, int64), made as the special
 * strings described at the top of lua-bson.c, and bson.type, which reads them
 * back.
 *
 * Invariants: the ObjectId generator (5 random bytes and a counter) is
 * seeded once per process before sodium hands out anything (lua-bson.c calls
 * sodium_init first); counters are atomic, so states on several threads may
 * share them.
 */
#include <lauxlib.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "bson_codec.h"
#include "hex.h"

/* push "\0" type payload */
void bson_push_special(lua_State *L, int type, const void *payload, size_t n)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addchar(&b, '\0');
	luaL_addchar(&b, (char)type);
	luaL_addlstring(&b, (const char *)payload, n);
	luaL_pushresult(&b);
}

/* ------------------------------------------------------------ constructors */

static int lint64(lua_State *L)
{
	uint8_t v[8];
	put64(v, (uint64_t)luaL_checkinteger(L, 1));
	bson_push_special(L, T_INT64, v, 8);
	return 1;
}

/* date(seconds[, milliseconds]): skynet's 4-byte seconds form when it holds
 * the value, else 8 bytes of milliseconds */
static int ldate(lua_State *L)
{
	lua_Integer sec = luaL_checkinteger(L, 1);
	lua_Integer ms = luaL_optinteger(L, 2, 0);
	if (ms == 0 && sec >= 0 && sec <= (lua_Integer)UINT32_MAX) {
		uint8_t v[4];
		put32(v, (uint32_t)sec);
		bson_push_special(L, T_DATE, v, 4);
	} else {
		uint8_t v[8];
		put64(v, (uint64_t)(sec * 1000 + ms));
		bson_push_special(L, T_DATE, v, 8);
	}
	return 1;
}

static atomic_uint_least32_t ts_counter;

/* timestamp(seconds[, increment]); without one, a process-wide counter */
static int ltimestamp(lua_State *L)
{
	lua_Integer sec = luaL_checkinteger(L, 1);
	uint32_t inc;
	if (lua_isnoneornil(L, 2))
		inc = (uint32_t)atomic_fetch_add(&ts_counter, 1);
	else
		inc = (uint32_t)luaL_checkinteger(L, 2);
	uint8_t v[8];
	put32(v, inc);
	put32(v + 4, (uint32_t)sec);
	bson_push_special(L, T_TIMESTAMP, v, 8);
	return 1;
}

static int lregex(lua_State *L)
{
	size_t pn, on;
	const char *pat = luaL_checklstring(L, 1, &pn);
	const char *opt = luaL_optlstring(L, 2, "", &on);
	if (memchr(pat, 0, pn) || memchr(opt, 0, on))
		return luaL_error(L, "Invalid regex: a NUL byte inside");
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addchar(&b, '\0');
	luaL_addchar(&b, T_REGEX);
	luaL_addlstring(&b, pat, pn);
	luaL_addchar(&b, '\0');
	luaL_addlstring(&b, opt, on);
	luaL_addchar(&b, '\0');
	luaL_pushresult(&b);
	return 1;
}

static int lbinary(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	lua_Integer sub = luaL_optinteger(L, 2, 0);
	luaL_argcheck(L, sub >= 0 && sub <= 255, 2, "subtype is a byte");
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addchar(&b, '\0');
	luaL_addchar(&b, T_BINARY);
	luaL_addchar(&b, (char)sub);
	luaL_addlstring(&b, s, n);
	luaL_pushresult(&b);
	return 1;
}

static uint8_t oid_random[5];
static atomic_uint_least32_t oid_counter;

/* objectid(): 4 bytes of time (big-endian), 5 random bytes per process, a
 * 3-byte counter (big-endian); objectid(hex): those 12 bytes */
static int lobjectid(lua_State *L)
{
	uint8_t id[12];
	if (!lua_isnoneornil(L, 1)) {
		size_t n;
		const char *hex = luaL_checklstring(L, 1, &n);
		if (n != 24)
			return luaL_error(L, "Invalid objectid %s", hex);
		for (int i = 0; i < 12; i++) {
			int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return luaL_error(L, "Invalid objectid %s", hex);
			id[i] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		uint32_t t = (uint32_t)time(NULL);
		uint32_t c = (uint32_t)atomic_fetch_add(&oid_counter, 1);
		id[0] = (uint8_t)(t >> 24);
		id[1] = (uint8_t)(t >> 16);
		id[2] = (uint8_t)(t >> 8);
		id[3] = (uint8_t)t;
		memcpy(id + 4, oid_random, 5);
		id[9] = (uint8_t)(c >> 16);
		id[10] = (uint8_t)(c >> 8);
		id[11] = (uint8_t)c;
	}
	bson_push_special(L, T_OBJECTID, id, 12);
	return 1;
}

/* ------------------------------------------------------------ bson.type */

static int ltype(lua_State *L)
{
	int t = lua_type(L, 1);
	switch (t) {
	case LUA_TNUMBER:
	case LUA_TBOOLEAN:
	case LUA_TTABLE:
		lua_pushstring(L, lua_typename(L, t));
		lua_pushvalue(L, 1);
		return 2;
	case LUA_TNIL: lua_pushliteral(L, "nil"); return 1;
	case LUA_TSTRING: break;
	default: return luaL_error(L, "Invalid type %s", lua_typename(L, t));
	}
	size_t n;
	const uint8_t *s = (const uint8_t *)lua_tolstring(L, 1, &n);
	if (n < 2 || s[0] != 0) {
		lua_pushliteral(L, "string");
		lua_pushvalue(L, 1);
		return 2;
	}
	const uint8_t *p = s + 2;
	n -= 2;
	switch (s[1]) {
	case T_BINARY:
		if (n < 1)
			return luaL_error(L, "Invalid binary");
		lua_pushliteral(L, "binary");
		lua_pushlstring(L, (const char *)p + 1, n - 1);
		lua_pushinteger(L, p[0]);
		return 3;
	case T_OBJECTID: {
		if (n != 12)
			return luaL_error(L, "Invalid object id");
		lua_pushliteral(L, "objectid");
		hex_push(L, p, 12);
		return 2;
	}
	case T_DATE:
		lua_pushliteral(L, "date");
		if (n == 4) {
			lua_pushinteger(L, get32(p));
			return 2;
		} else if (n == 8) {
			int64_t ms = (int64_t)get64(p);
			int64_t sec = ms / 1000, rem = ms % 1000;
			if (rem < 0) {
				sec -= 1;
				rem += 1000;
			}
			lua_pushinteger(L, sec);
			lua_pushinteger(L, rem);
			return 3;
		}
		return luaL_error(L, "Invalid date");
	case T_TIMESTAMP:
		if (n != 8)
			return luaL_error(L, "Invalid timestamp");
		lua_pushliteral(L, "timestamp");
		lua_pushinteger(L, get32(p + 4));
		lua_pushinteger(L, get32(p));
		return 3;
	case T_REGEX: {
		const uint8_t *z = memchr(p, 0, n);
		if (z == NULL || n < 2 || p[n - 1] != 0)
			return luaL_error(L, "Invalid regex");
		lua_pushliteral(L, "regex");
		lua_pushlstring(L, (const char *)p, (size_t)(z - p));
		lua_pushlstring(L, (const char *)z + 1, n - (size_t)(z - p) - 2);
		return 3;
	}
	case T_MINKEY: lua_pushliteral(L, "minkey"); return 1;
	case T_MAXKEY: lua_pushliteral(L, "maxkey"); return 1;
	case T_NULL: lua_pushliteral(L, "nil"); return 1;
	case T_INT64:
		if (n != 8)
			return luaL_error(L, "Invalid int64");
		lua_pushliteral(L, "int64");
		lua_pushinteger(L, (lua_Integer)get64(p));
		return 2;
	case T_UNDEFINED:
	case T_DBPOINTER:
	case T_CODE:
	case T_SYMBOL:
	case T_CODEWS:
	case T_DECIMAL128:
		lua_pushliteral(L, "unsupported");
		lua_pushlstring(L, (const char *)p, n);
		lua_pushinteger(L, s[1]);
		return 3;
	default: return luaL_error(L, "Invalid subtype %d", s[1]);
	}
}

void bson_values_register(lua_State *L)
{
	/* once per process; a second state only redraws the same kind of bytes */
	static atomic_flag seeded = ATOMIC_FLAG_INIT;
	if (!atomic_flag_test_and_set(&seeded)) {
		randombytes_buf(oid_random, sizeof(oid_random));
		atomic_store(&oid_counter, randombytes_uniform(1u << 24));
	}
	static const luaL_Reg l[] = {
		{ "date", ldate },         { "timestamp", ltimestamp },
		{ "regex", lregex },       { "binary", lbinary },
		{ "objectid", lobjectid }, { "int64", lint64 },
		{ "type", ltype },         { NULL, NULL },
	};
	luaL_setfuncs(L, l, 0);
}
