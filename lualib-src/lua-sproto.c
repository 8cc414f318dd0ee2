/*
 * lua-sproto.c — sproto.core: sproto messages to and from Lua tables.
 *
 * The Lua API is skynet's (used by lualib/sproto.lua and sprotoloader.lua):
 *   newproto(bin) -> schema | nil, err       deleteproto(schema)
 *   querytype(schema, name) -> type | nil    dumpproto(schema)
 *   protocol(schema, name|tag) -> tag|name, request, response
 *   encode(type, table) -> string            decode(type, msg[, sz][, t]) -> t, used
 *   pack(msg[, sz]) -> string                unpack(msg[, sz]) -> string
 *   saveproto(schema, slot)                  loadproto(slot) -> schema
 *   default(type) -> table
 * A schema is a full userdata holding one reference to a shared, immutable
 * spw_schema (sproto_wire.h); a type is a light userdata pointing into it,
 * valid while the schema lives (sproto.lua keeps it alive). A NULL type is
 * "no content" (a `response nil` protocol): it encodes only nil, to "", and
 * decodes to nothing. msg is a string, or a (light) userdata and a size.
 *
 * Invariants: the encoder writes into a scratch buffer (a userdata, so a Lua
 * error mid-way leaks nothing) kept as an upvalue between calls; decoding
 * allocates nothing but Lua values. Both refuse tables nested deeper than
 * MAX_DEPTH, messages over MAX_ENCODE bytes, and the decoder checks every
 * length against the bytes it was given, so hostile input ends in a Lua
 * error, never a read out of bounds.
 *
 * This file holds the schema handles, the argument helpers, 0-packing,
 * default() and the module table; the codec is in sproto_encode.c and
 * sproto_decode.c (shared declarations in sproto_lua.h).
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>

#include "lua-sproto.h"
#include "sproto_lua.h"

#define SCHEMA_MT "sproto.schema"

/* ---- schema handles ---- */

struct handle {
	struct spw_schema *s; /* NULL once deleted */
};

static struct spw_schema *check_schema(lua_State *L, int idx)
{
	struct handle *h = luaL_checkudata(L, idx, SCHEMA_MT);
	if (h->s == NULL)
		luaL_argerror(L, idx, "sproto schema already deleted");
	return h->s;
}

/* Pushes a handle that adopts one reference of s. */
static void push_schema(lua_State *L, struct spw_schema *s)
{
	struct handle *h = lua_newuserdatauv(L, sizeof(*h), 0);
	h->s = NULL;
	luaL_setmetatable(L, SCHEMA_MT);
	h->s = s;
}

static int schema_gc(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, SCHEMA_MT);
	spw_schema_release(h->s);
	h->s = NULL;
	return 0;
}

/* A type argument: NULL for nil or a NULL light userdata ("no content"). */
const struct spw_type *sproto_opt_type(lua_State *L, int idx)
{
	int t = lua_type(L, idx);
	if (t == LUA_TNIL || t == LUA_TNONE)
		return NULL;
	if (t != LUA_TLIGHTUSERDATA)
		luaL_argerror(L, idx, "sproto type expected");
	const struct spw_type *st = lua_touserdata(L, idx);
	if (st != NULL && st->magic != SPW_TYPE_MAGIC)
		luaL_argerror(L, idx, "not a sproto type");
	return st;
}

const uint8_t *sproto_get_msg(lua_State *L, int idx, size_t *len, int *next)
{
	int t = lua_type(L, idx);
	if (t == LUA_TSTRING) {
		*next = idx + 1;
		return (const uint8_t *)lua_tolstring(L, idx, len);
	}
	if (t != LUA_TUSERDATA && t != LUA_TLIGHTUSERDATA)
		luaL_argerror(L, idx, "string or userdata expected");
	lua_Integer n = luaL_checkinteger(L, idx + 1);
	luaL_argcheck(L, n >= 0, idx + 1, "negative size");
	*len = (size_t)n;
	*next = idx + 2;
	const uint8_t *p = lua_touserdata(L, idx);
	luaL_argcheck(L, p != NULL || n == 0, idx, "NULL pointer");
	return p;
}

static int l_newproto(lua_State *L)
{
	size_t len;
	const char *bin = luaL_checklstring(L, 1, &len);
	char err[160];
	struct spw_schema *s = spw_schema_new((const uint8_t *)bin, len, err, sizeof(err));
	if (s == NULL) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid sproto schema: %s", err);
		return 2;
	}
	push_schema(L, s);
	return 1;
}

static int l_deleteproto(lua_State *L)
{
	return schema_gc(L);
}

static int l_querytype(lua_State *L)
{
	struct spw_schema *s = check_schema(L, 1);
	struct spw_type *st = spw_schema_type(s, luaL_checkstring(L, 2));
	if (st == NULL)
		return 0;
	lua_pushlightuserdata(L, st);
	return 1;
}

static int l_protocol(lua_State *L)
{
	struct spw_schema *s = check_schema(L, 1);
	const struct spw_protocol *p;
	if (lua_type(L, 2) == LUA_TNUMBER) {
		p = spw_schema_proto_bytag(s, luaL_checkinteger(L, 2));
		if (p == NULL)
			return 0;
		lua_pushstring(L, p->name);
	} else {
		p = spw_schema_proto_byname(s, luaL_checkstring(L, 2));
		if (p == NULL)
			return 0;
		lua_pushinteger(L, p->tag);
	}
	if (p->request)
		lua_pushlightuserdata(L, p->request);
	else
		lua_pushnil(L);
	if (p->response)
		lua_pushlightuserdata(L, p->response);
	else if (p->confirm)
		lua_pushlightuserdata(L, NULL); /* a response with no content */
	else
		lua_pushnil(L);
	return 3;
}

static int l_saveproto(lua_State *L)
{
	struct spw_schema *s = check_schema(L, 1);
	lua_Integer slot = luaL_optinteger(L, 2, 0);
	if (slot < 0 || slot >= SPW_SLOTS || spw_slot_store((int)slot, s) < 0)
		return luaL_error(L, "Invalid global slot index %d", (int)slot);
	return 0;
}

static int l_loadproto(lua_State *L)
{
	lua_Integer slot = luaL_optinteger(L, 1, 0);
	if (slot < 0 || slot >= SPW_SLOTS)
		return luaL_error(L, "Invalid global slot index %d", (int)slot);
	struct spw_schema *s = spw_slot_load((int)slot);
	if (s == NULL)
		return luaL_error(L, "nil sproto at index %d", (int)slot);
	push_schema(L, s);
	return 1;
}

static const char *kind_name(const struct spw_fielddef *f)
{
	switch (f->kind) {
	case SPW_INTEGER: return "integer";
	case SPW_BOOLEAN: return "boolean";
	case SPW_STRING: return f->binary ? "binary" : "string";
	case SPW_DOUBLE: return "double";
	default: return f->st->name;
	}
}

static int l_dumpproto(lua_State *L)
{
	struct spw_schema *s = check_schema(L, 1);
	printf("=== %d types ===\n", spw_schema_ntype(s));
	for (int i = 0; i < spw_schema_ntype(s); i++) {
		const struct spw_type *t = spw_schema_type_at(s, i);
		printf("%s\n", t->name);
		for (int j = 0; j < t->n; j++) {
			const struct spw_fielddef *f = &t->f[j];
			printf("\t%s %d : %s%s", f->name, f->tag, f->array ? "*" : "", kind_name(f));
			if (f->scale)
				printf("(%d)", f->precision);
			if (f->map)
				printf("()");
			else if (f->key)
				printf("(%s)", f->key->name);
			printf("\n");
		}
	}
	printf("=== %d protocols ===\n", spw_schema_nproto(s));
	for (int i = 0; i < spw_schema_nproto(s); i++) {
		const struct spw_protocol *p = spw_schema_proto_at(s, i);
		printf("\t%s %d request:%s response:%s\n", p->name, p->tag,
		       p->request ? p->request->name : "(none)",
		       p->response  ? p->response->name
		       : p->confirm ? "nil"
		                    : "(none)");
	}
	fflush(stdout);
	return 0;
}

/* ---- packing ---- */

/* A scratch buffer of at least n bytes from upvalue 1, left at the top. */
static uint8_t *scratch(lua_State *L, size_t n)
{
	lua_pushvalue(L, lua_upvalueindex(1));
	if (lua_rawlen(L, -1) >= n)
		return lua_touserdata(L, -1);
	lua_pop(L, 1);
	uint8_t *p = lua_newuserdatauv(L, n, 0);
	if (n <= SCRATCH_KEEP) {
		lua_pushvalue(L, -1);
		lua_replace(L, lua_upvalueindex(1));
	}
	return p;
}

static int l_pack(lua_State *L)
{
	size_t len;
	int next;
	const uint8_t *src = sproto_get_msg(L, 1, &len, &next);
	if (len > MAX_ENCODE)
		return luaL_error(L, "object is too large (>%d)", MAX_ENCODE);
	uint8_t *dst = scratch(L, spw_pack_bound(len));
	size_t n = spw_pack(src, len, dst);
	lua_pushlstring(L, (const char *)dst, n);
	return 1;
}

static int l_unpack(lua_State *L)
{
	size_t len;
	int next;
	const uint8_t *src = sproto_get_msg(L, 1, &len, &next);
	int64_t n = spw_unpack_size(src, len);
	if (n < 0)
		return luaL_error(L, "Invalid unpack stream");
	uint8_t *dst = scratch(L, (size_t)n);
	spw_unpack(src, len, dst);
	lua_pushlstring(L, (const char *)dst, (size_t)n);
	return 1;
}

/* ---- default ---- */

static void push_default(lua_State *L, const struct spw_fielddef *f, int element)
{
	switch (f->kind) {
	case SPW_INTEGER:
		if (f->scale)
			lua_pushnumber(L, 0.0);
		else
			lua_pushinteger(L, 0);
		break;
	case SPW_DOUBLE: lua_pushnumber(L, 0.0); break;
	case SPW_BOOLEAN: lua_pushboolean(L, 0); break;
	case SPW_STRING: lua_pushliteral(L, ""); break;
	default:
		if (element) {
			lua_pushstring(L, f->st->name);
		} else {
			lua_createtable(L, 0, 1);
			lua_pushstring(L, f->st->name);
			lua_setfield(L, -2, "__type");
		}
	}
}

/* default(type) -> a table with every field at its default; an array is
 * { __array = element default }, a struct { __type = name }. */
static int l_default(lua_State *L)
{
	const struct spw_type *st = sproto_opt_type(L, 1);
	luaL_argcheck(L, st != NULL, 1, "sproto type expected");
	lua_createtable(L, 0, st->n);
	for (int i = 0; i < st->n; i++) {
		const struct spw_fielddef *f = &st->f[i];
		if (f->array) {
			lua_createtable(L, 0, 1);
			push_default(L, f, 1);
			lua_setfield(L, -2, "__array");
		} else {
			push_default(L, f, 0);
		}
		lua_setfield(L, -2, f->name);
	}
	return 1;
}

static void add_buffered(lua_State *L, const char *name, lua_CFunction fn)
{
	lua_newuserdatauv(L, 2048, 0);
	lua_pushcclosure(L, fn, 1);
	lua_setfield(L, -2, name);
}

int luaopen_sproto_core(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg schema_meta[] = {
		{ "__gc", schema_gc },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, SCHEMA_MT))
		luaL_setfuncs(L, schema_meta, 0);
	lua_pop(L, 1);
	static const luaL_Reg lib[] = {
		{ "newproto", l_newproto },   { "deleteproto", l_deleteproto },
		{ "dumpproto", l_dumpproto }, { "querytype", l_querytype },
		{ "protocol", l_protocol },   { "decode", sproto_l_decode },
		{ "saveproto", l_saveproto }, { "loadproto", l_loadproto },
		{ "default", l_default },     { NULL, NULL },
	};
	luaL_newlib(L, lib);
	add_buffered(L, "encode", sproto_l_encode);
	add_buffered(L, "pack", l_pack);
	add_buffered(L, "unpack", l_unpack);
	return 1;
}
