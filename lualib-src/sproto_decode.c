/*
 * sproto_decode.c — sproto.core's decoder: a sproto message to a Lua table
 * (the wire format is described in sproto_wire.h).
 *
 * Invariants: decoding allocates nothing but Lua values; it checks every
 * length against the bytes it was given and refuses nesting deeper than
 * MAX_DEPTH, so hostile input ends in a Lua error, never a read out of
 * bounds.
 */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sproto_lua.h"

#define PREALLOC_MAX 65536 /* array slots reserved up front when decoding */

static int dec_error(lua_State *L, const struct spw_type *st, const char *field, const char *why)
{
	return luaL_error(L, "decode error: %s%s%s: %s", st->name, field ? "." : "", field ? field : "", why);
}

static int64_t chunk_int(lua_State *L, const struct spw_type *st, const struct spw_fielddef *f,
                         const uint8_t *p, uint32_t size)
{
	if (size == 4)
		return (int64_t)(int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		                          (uint32_t)p[3] << 24);
	if (size == 8) {
		uint64_t v = 0;
		for (int i = 7; i >= 0; i--)
			v = v << 8 | p[i];
		return (int64_t)v;
	}
	dec_error(L, st, f->name, "integer of bad size");
	return 0;
}

static double chunk_double(const uint8_t *p)
{
	uint64_t bits = 0;
	for (int i = 7; i >= 0; i--)
		bits = bits << 8 | p[i];
	double d;
	memcpy(&d, &bits, 8);
	return d;
}

static void push_int(lua_State *L, const struct spw_fielddef *f, int64_t v)
{
	if (f->scale)
		lua_pushnumber(L, (lua_Number)v / (lua_Number)f->scale);
	else
		lua_pushinteger(L, (lua_Integer)v);
}

static size_t dec_struct(lua_State *L, const struct spw_type *st, const uint8_t *p, size_t len, int tbl,
                         int depth);

/* Decodes one struct chunk into a new table left at the top of the stack;
 * the chunk must be exactly one struct. */
static void dec_substruct(lua_State *L, const struct spw_type *st, const struct spw_fielddef *f,
                          const uint8_t *p, uint32_t size, int depth)
{
	lua_createtable(L, 0, f->st->n);
	if (dec_struct(L, f->st, p, size, lua_gettop(L), depth + 1) != size)
		dec_error(L, st, f->name, "struct size mismatch");
}

static void dec_array(lua_State *L, const struct spw_type *st, const struct spw_fielddef *f, const uint8_t *p,
                      uint32_t size, int depth)
{
	switch (f->kind) {
	case SPW_INTEGER:
	case SPW_DOUBLE: {
		if (size <= 1) { /* empty (a lone width byte is empty too) */
			lua_createtable(L, 0, 0);
			return;
		}
		unsigned w = p[0];
		if ((w != 4 && w != 8) || (f->kind == SPW_DOUBLE && w != 8) || (size - 1) % w != 0)
			dec_error(L, st, f->name, "bad number array");
		uint32_t n = (size - 1) / w;
		lua_createtable(L, n > PREALLOC_MAX ? PREALLOC_MAX : (int)n, 0);
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *q = p + 1 + (size_t)i * w;
			if (f->kind == SPW_DOUBLE)
				lua_pushnumber(L, chunk_double(q));
			else
				push_int(L, f, chunk_int(L, st, f, q, w));
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		return;
	}
	case SPW_BOOLEAN:
		lua_createtable(L, size > PREALLOC_MAX ? PREALLOC_MAX : (int)size, 0);
		for (uint32_t i = 0; i < size; i++) {
			lua_pushboolean(L, p[i] != 0);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		return;
	default: break;
	}
	lua_newtable(L);
	int arr = lua_gettop(L);
	int entry = 0;
	if (f->map) {
		lua_createtable(L, 0, 2);
		entry = lua_gettop(L);
	}
	lua_Integer i = 0;
	while (size > 0) {
		if (size < 4)
			dec_error(L, st, f->name, "truncated array");
		uint32_t sz =
			(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		if (size - 4 < sz)
			dec_error(L, st, f->name, "truncated array element");
		const uint8_t *q = p + 4;
		p += 4 + (size_t)sz;
		size -= 4 + sz;
		if (f->kind == SPW_STRING) {
			lua_pushlstring(L, (const char *)q, sz);
			lua_rawseti(L, arr, ++i);
		} else if (f->map) {
			lua_pushnil(L);
			lua_setfield(L, entry, f->key->name);
			lua_pushnil(L);
			lua_setfield(L, entry, f->value->name);
			if (dec_struct(L, f->st, q, sz, entry, depth + 1) != sz)
				dec_error(L, st, f->name, "struct size mismatch");
			if (lua_getfield(L, entry, f->key->name) == LUA_TNIL)
				dec_error(L, st, f->name, "map entry without key");
			if (lua_getfield(L, entry, f->value->name) == LUA_TNIL)
				dec_error(L, st, f->name, "map entry without value");
			lua_settable(L, arr);
		} else if (f->key) {
			dec_substruct(L, st, f, q, sz, depth);
			if (lua_getfield(L, -1, f->key->name) == LUA_TNIL)
				dec_error(L, st, f->name, "element without its main index");
			lua_insert(L, -2);
			lua_settable(L, arr);
		} else {
			dec_substruct(L, st, f, q, sz, depth);
			lua_rawseti(L, arr, ++i);
		}
	}
	if (entry)
		lua_pop(L, 1);
}

/* Decodes the struct at p into the table at stack index tbl; returns the
 * bytes it used (the struct may be followed by more). */
static size_t dec_struct(lua_State *L, const struct spw_type *st, const uint8_t *p, size_t len, int tbl,
                         int depth)
{
	if (depth >= MAX_DEPTH)
		dec_error(L, st, NULL, "nested too deep");
	luaL_checkstack(L, 8, "sproto decode");
	struct spw_reader r;
	struct spw_field v;
	int rc;
	if (spw_reader_init(&r, p, len) < 0)
		dec_error(L, st, NULL, "truncated header");
	while ((rc = spw_reader_next(&r, &v)) > 0) {
		const struct spw_fielddef *f = spw_type_field(st, v.tag);
		if (f == NULL)
			continue; /* a field this schema does not know: skipped */
		if (v.data == NULL) {
			if (f->array || (f->kind != SPW_INTEGER && f->kind != SPW_BOOLEAN))
				dec_error(L, st, f->name, "inline value for a field that cannot have one");
			if (f->kind == SPW_BOOLEAN)
				lua_pushboolean(L, v.value != 0);
			else
				push_int(L, f, v.value);
		} else if (f->array) {
			dec_array(L, st, f, v.data, v.size, depth);
		} else {
			switch (f->kind) {
			case SPW_INTEGER: push_int(L, f, chunk_int(L, st, f, v.data, v.size)); break;
			case SPW_DOUBLE:
				if (v.size != 8)
					dec_error(L, st, f->name, "double of bad size");
				lua_pushnumber(L, chunk_double(v.data));
				break;
			case SPW_STRING: lua_pushlstring(L, (const char *)v.data, v.size); break;
			case SPW_STRUCT: dec_substruct(L, st, f, v.data, v.size, depth); break;
			default: dec_error(L, st, f->name, "boolean in a chunk");
			}
		}
		lua_setfield(L, tbl, f->name);
	}
	if (rc < 0)
		dec_error(L, st, NULL, "truncated data");
	return (size_t)(r.data - p);
}

/* decode(type, msg[, sz][, table]) -> table, bytes used */
int sproto_l_decode(lua_State *L)
{
	const struct spw_type *st = sproto_opt_type(L, 1);
	if (st == NULL)
		return 0;
	size_t len;
	int next;
	const uint8_t *p = sproto_get_msg(L, 2, &len, &next);
	if (lua_istable(L, next)) {
		lua_settop(L, next);
	} else {
		lua_settop(L, next - 1);
		lua_newtable(L);
	}
	int tbl = lua_gettop(L);
	size_t used = dec_struct(L, st, p, len, tbl, 0);
	lua_settop(L, tbl);
	lua_pushinteger(L, (lua_Integer)used);
	return 2;
}
