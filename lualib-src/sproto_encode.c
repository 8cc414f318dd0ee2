/*
 * sproto_encode.c — sproto.core's encoder: a Lua table to a sproto message
 * (the wire format is described in sproto_wire.h).
 *
 * Invariants: the encoder writes into a scratch buffer (a userdata, so a Lua
 * error mid-way leaks nothing) kept as upvalue 1 between calls, and a larger
 * one it had to grow replaces it only up to SCRATCH_KEEP bytes.  It refuses
 * tables nested deeper than MAX_DEPTH and messages over MAX_ENCODE bytes.
 */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sproto_lua.h"

struct enc {
	lua_State *L;
	uint8_t *p;
	size_t len, cap;
	int slot; /* stack index of the scratch userdata */
	int grown;
};

static void reserve(struct enc *e, size_t n)
{
	if (e->cap - e->len >= n)
		return;
	if (e->len + n > MAX_ENCODE)
		luaL_error(e->L, "object is too large (>%d)", MAX_ENCODE);
	size_t cap = e->cap * 2;
	while (cap < e->len + n)
		cap *= 2;
	if (cap > MAX_ENCODE)
		cap = MAX_ENCODE;
	uint8_t *p = lua_newuserdatauv(e->L, cap, 0);
	memcpy(p, e->p, e->len);
	lua_replace(e->L, e->slot);
	e->p = p;
	e->cap = cap;
	e->grown = 1;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static int fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static void enc_error(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f,
                      const char *want, int idx)
{
	luaL_error(e->L, "%s.%s is not %s (Is a %s)", st->name, f->name, want, luaL_typename(e->L, idx));
}

/* The integer at the top of the stack, scaled for integer(p). */
static int64_t to_int(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f)
{
	lua_State *L = e->L;
	if (f->scale) {
		int isnum;
		lua_Number n = lua_tonumberx(L, -1, &isnum);
		if (!isnum)
			enc_error(e, st, f, "a number", -1);
		double r = round(n * (double)f->scale);
		if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
			luaL_error(L, "%s.%s is out of range for integer(%d)", st->name, f->name,
			           f->precision);
		return (int64_t)r;
	}
	int isint;
	lua_Integer v = lua_tointegerx(L, -1, &isint);
	if (!isint)
		enc_error(e, st, f, "an integer", -1);
	return (int64_t)v;
}

static double to_double(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f)
{
	int isnum;
	lua_Number n = lua_tonumberx(e->L, -1, &isnum);
	if (!isnum)
		enc_error(e, st, f, "a number", -1);
	return (double)n;
}

static int to_bool(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f)
{
	if (!lua_isboolean(e->L, -1))
		enc_error(e, st, f, "a boolean", -1);
	return lua_toboolean(e->L, -1);
}

static void enc_struct(struct enc *e, const struct spw_type *st, int tbl, int depth);

/* Appends a chunk holding the string at the top of the stack. */
static void enc_string(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f)
{
	if (lua_type(e->L, -1) != LUA_TSTRING)
		enc_error(e, st, f, "a string", -1);
	size_t n;
	const char *s = lua_tolstring(e->L, -1, &n);
	if (n > MAX_ENCODE)
		luaL_error(e->L, "object is too large (>%d)", MAX_ENCODE);
	reserve(e, 4 + n);
	put32(e->p + e->len, (uint32_t)n);
	memcpy(e->p + e->len + 4, s, n);
	e->len += 4 + n;
}

/* Appends a chunk holding the struct at the top of the stack. */
static void enc_substruct(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f, int depth)
{
	int t = lua_type(e->L, -1);
	if (t != LUA_TTABLE && t != LUA_TUSERDATA)
		enc_error(e, st, f, "a table", -1);
	reserve(e, 4);
	size_t at = e->len;
	e->len += 4;
	enc_struct(e, f->st, lua_gettop(e->L), depth + 1);
	put32(e->p + at, (uint32_t)(e->len - at - 4));
}

/* pairs() over the table at arr, honouring __pairs as the reference does
 * (proxy tables): pairs_begin pushes the iterator state (f, s, k; or just the
 * first key for lua_next) and returns where it starts, 0 for lua_next;
 * pairs_next leaves key and value on top, or nothing at the end. */
static int pairs_begin(lua_State *L, int arr)
{
	if (luaL_getmetafield(L, arr, "__pairs") == LUA_TNIL) {
		if (!lua_istable(L, arr))
			luaL_error(L, "%s is not a table and has no __pairs", luaL_typename(L, arr));
		lua_pushnil(L);
		return 0;
	}
	lua_pushvalue(L, arr);
	lua_call(L, 1, 3);
	return lua_gettop(L) - 2;
}

static int pairs_next(lua_State *L, int arr, int it)
{
	if (it == 0)
		return lua_next(L, arr);
	lua_pushvalue(L, it);
	lua_pushvalue(L, it + 1);
	lua_pushvalue(L, -3); /* the last key */
	lua_call(L, 2, 2);
	if (lua_isnil(L, -2)) {
		lua_pop(L, 3);
		return 0;
	}
	lua_remove(L, -3); /* the last key: the new one replaces it */
	lua_pushvalue(L, -2);
	lua_replace(L, it + 2);
	return 1;
}

/* The array at the top of the stack, as one chunk. */
static void enc_array(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f, int depth)
{
	lua_State *L = e->L;
	int arr = lua_gettop(L);
	if (!lua_istable(L, arr) && lua_type(L, arr) != LUA_TUSERDATA)
		enc_error(e, st, f, "a table", arr);
	reserve(e, 4);
	size_t at = e->len;
	e->len += 4;
	switch (f->kind) {
	case SPW_INTEGER:
	case SPW_DOUBLE: {
		/* every element is written as 8 bytes; if all fit in 32 bits,
		 * they are narrowed in place afterwards */
		size_t first = e->len + 1;
		int wide = f->kind == SPW_DOUBLE;
		lua_Integer i;
		for (i = 1; lua_geti(L, arr, i) != LUA_TNIL; i++) {
			reserve(e, 1 + (size_t)i * 8); /* e->len stays before the width byte */
			uint64_t bits;
			if (f->kind == SPW_DOUBLE) {
				double d = to_double(e, st, f);
				memcpy(&bits, &d, 8);
			} else {
				int64_t v = to_int(e, st, f);
				wide |= !fits32(v);
				bits = (uint64_t)v;
			}
			put64(e->p + first + (size_t)(i - 1) * 8, bits);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		size_t n = (size_t)(i - 1);
		if (n == 0)
			break;
		if (wide) {
			e->p[first - 1] = 8;
			e->len = first + n * 8;
		} else {
			e->p[first - 1] = 4;
			for (size_t k = 0; k < n; k++)
				memmove(e->p + first + k * 4, e->p + first + k * 8, 4);
			e->len = first + n * 4;
		}
		break;
	}
	case SPW_BOOLEAN:
		for (lua_Integer i = 1; lua_geti(L, arr, i) != LUA_TNIL; i++) {
			reserve(e, 1);
			e->p[e->len++] = (uint8_t)to_bool(e, st, f);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		break;
	case SPW_STRING:
		for (lua_Integer i = 1; lua_geti(L, arr, i) != LUA_TNIL; i++) {
			enc_string(e, st, f);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		break;
	default:
		if (f->map || f->key) {
			/* pairs(arr): a map sends each key -> value as the element
			 * {f0 = key, f1 = value}; an array keyed by a field of its
			 * elements sends the values only */
			int entry = 0;
			if (f->map) {
				lua_createtable(L, 0, 2);
				entry = lua_gettop(L);
			}
			int it = pairs_begin(L, arr);
			while (pairs_next(L, arr, it)) {
				if (entry) {
					lua_setfield(L, entry, f->value->name);
					lua_pushvalue(L, -1);
					lua_setfield(L, entry, f->key->name);
					lua_pushvalue(L, entry);
				}
				enc_substruct(e, st, f, depth);
				lua_pop(L, 1);
			}
			lua_settop(L, arr);
		} else {
			for (lua_Integer i = 1; lua_geti(L, arr, i) != LUA_TNIL; i++) {
				enc_substruct(e, st, f, depth);
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
		break;
	}
	put32(e->p + at, (uint32_t)(e->len - at - 4));
}

/* Appends the encoding of the table at stack index tbl, of type st. */
static void enc_struct(struct enc *e, const struct spw_type *st, int tbl, int depth)
{
	lua_State *L = e->L;
	if (depth >= MAX_DEPTH)
		luaL_error(L, "The table is too deep");
	luaL_checkstack(L, 8, "sproto encode");
	size_t header = 2 + (size_t)st->maxn * 2;
	reserve(e, header);
	size_t start = e->len;
	e->len += header;
	unsigned entries = 0;
	int last = -1;
	for (int i = 0; i < st->n; i++) {
		const struct spw_fielddef *f = &st->f[i];
		if (lua_getfield(L, tbl, f->name) == LUA_TNIL) {
			lua_pop(L, 1);
			continue;
		}
		uint32_t entry = 0; /* 0: the value is a chunk */
		if (f->array) {
			enc_array(e, st, f, depth);
		} else {
			switch (f->kind) {
			case SPW_INTEGER: {
				int64_t v = to_int(e, st, f);
				if (v >= 0 && v < 0x7fff) {
					entry = (uint32_t)(v + 1) * 2;
				} else if (fits32(v)) {
					reserve(e, 8);
					put32(e->p + e->len, 4);
					put32(e->p + e->len + 4, (uint32_t)v);
					e->len += 8;
				} else {
					reserve(e, 12);
					put32(e->p + e->len, 8);
					put64(e->p + e->len + 4, (uint64_t)v);
					e->len += 12;
				}
				break;
			}
			case SPW_BOOLEAN: entry = to_bool(e, st, f) ? 4 : 2; break;
			case SPW_DOUBLE: {
				double d = to_double(e, st, f);
				uint64_t bits;
				memcpy(&bits, &d, 8);
				reserve(e, 12);
				put32(e->p + e->len, 8);
				put64(e->p + e->len + 4, bits);
				e->len += 12;
				break;
			}
			case SPW_STRING: enc_string(e, st, f); break;
			default: enc_substruct(e, st, f, depth); break;
			}
		}
		lua_pop(L, 1);
		uint8_t *h = e->p + start + 2;
		if (f->tag > last + 1) {
			put16(h + entries * 2, (uint32_t)(f->tag - last - 2) * 2 + 1);
			entries++;
		}
		put16(h + entries * 2, entry);
		entries++;
		last = f->tag;
	}
	put16(e->p + start, entries);
	size_t used = 2 + (size_t)entries * 2;
	if (used < header) {
		memmove(e->p + start + used, e->p + start + header, e->len - start - header);
		e->len -= header - used;
	}
}

/* encode(type, table) -> string */
int sproto_l_encode(lua_State *L)
{
	const struct spw_type *st = sproto_opt_type(L, 1);
	if (st == NULL) {
		luaL_argcheck(L, lua_isnoneornil(L, 2), 2, "a message without content takes nil");
		lua_pushliteral(L, "");
		return 1;
	}
	int t = lua_type(L, 2);
	luaL_argcheck(L, t == LUA_TTABLE || t == LUA_TUSERDATA, 2, "table expected");
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	struct enc e = { L, lua_touserdata(L, 3), 0, lua_rawlen(L, 3), 3, 0 };
	enc_struct(&e, st, 2, 0);
	lua_pushlstring(L, (const char *)e.p, e.len);
	if (e.grown && e.cap <= SCRATCH_KEEP) {
		lua_pushvalue(L, 3);
		lua_replace(L, lua_upvalueindex(1));
	}
	return 1;
}
