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
 */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lua-sproto.h"
#include "sproto_wire.h"

#define MAX_DEPTH 64
#define MAX_ENCODE (16 * 1024 * 1024)
#define SCRATCH_KEEP (1024 * 1024) /* larger scratch buffers are not kept */
#define SCHEMA_MT "sproto.schema"
#define PREALLOC_MAX 65536 /* array slots reserved up front when decoding */

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
static const struct spw_type *opt_type(lua_State *L, int idx)
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

static const uint8_t *get_msg(lua_State *L, int idx, size_t *len, int *next)
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
	struct spw_schema *s = spw_schema_create((const uint8_t *)bin, len, err, sizeof(err));
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
		       p->response ? p->response->name : p->confirm ? "nil" : "(none)");
	}
	fflush(stdout);
	return 0;
}

/* ---- encoding ---- */

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
	luaL_error(e->L, "%s.%s is not %s (Is a %s)", st->name, f->name, want,
	           luaL_typename(e->L, idx));
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
			luaL_error(L, "%s.%s is out of range for integer(%d)", st->name, f->name, f->precision);
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
static void enc_substruct(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f,
                          int depth)
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
static void enc_array(struct enc *e, const struct spw_type *st, const struct spw_fielddef *f,
                      int depth)
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
			case SPW_BOOLEAN:
				entry = to_bool(e, st, f) ? 4 : 2;
				break;
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
			case SPW_STRING:
				enc_string(e, st, f);
				break;
			default:
				enc_substruct(e, st, f, depth);
				break;
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
static int l_encode(lua_State *L)
{
	const struct spw_type *st = opt_type(L, 1);
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

/* ---- decoding ---- */

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

static size_t dec_struct(lua_State *L, const struct spw_type *st, const uint8_t *p, size_t len,
                         int tbl, int depth);

/* Decodes one struct chunk into a new table left at the top of the stack;
 * the chunk must be exactly one struct. */
static void dec_substruct(lua_State *L, const struct spw_type *st, const struct spw_fielddef *f,
                          const uint8_t *p, uint32_t size, int depth)
{
	lua_createtable(L, 0, f->st->n);
	if (dec_struct(L, f->st, p, size, lua_gettop(L), depth + 1) != size)
		dec_error(L, st, f->name, "struct size mismatch");
}

static void dec_array(lua_State *L, const struct spw_type *st, const struct spw_fielddef *f,
                      const uint8_t *p, uint32_t size, int depth)
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
	default:
		break;
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
		uint32_t sz = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
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
static size_t dec_struct(lua_State *L, const struct spw_type *st, const uint8_t *p, size_t len,
                         int tbl, int depth)
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
			case SPW_INTEGER:
				push_int(L, f, chunk_int(L, st, f, v.data, v.size));
				break;
			case SPW_DOUBLE:
				if (v.size != 8)
					dec_error(L, st, f->name, "double of bad size");
				lua_pushnumber(L, chunk_double(v.data));
				break;
			case SPW_STRING:
				lua_pushlstring(L, (const char *)v.data, v.size);
				break;
			case SPW_STRUCT:
				dec_substruct(L, st, f, v.data, v.size, depth);
				break;
			default:
				dec_error(L, st, f->name, "boolean in a chunk");
			}
		}
		lua_setfield(L, tbl, f->name);
	}
	if (rc < 0)
		dec_error(L, st, NULL, "truncated data");
	return (size_t)(r.data - p);
}

/* decode(type, msg[, sz][, table]) -> table, bytes used */
static int l_decode(lua_State *L)
{
	const struct spw_type *st = opt_type(L, 1);
	if (st == NULL)
		return 0;
	size_t len;
	int next;
	const uint8_t *p = get_msg(L, 2, &len, &next);
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
	const uint8_t *src = get_msg(L, 1, &len, &next);
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
	const uint8_t *src = get_msg(L, 1, &len, &next);
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
	const struct spw_type *st = opt_type(L, 1);
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
		{ "newproto", l_newproto },
		{ "deleteproto", l_deleteproto },
		{ "dumpproto", l_dumpproto },
		{ "querytype", l_querytype },
		{ "protocol", l_protocol },
		{ "decode", l_decode },
		{ "saveproto", l_saveproto },
		{ "loadproto", l_loadproto },
		{ "default", l_default },
		{ NULL, NULL },
	};
	luaL_newlib(L, lib);
	add_buffered(L, "encode", l_encode);
	add_buffered(L, "pack", l_pack);
	add_buffered(L, "unpack", l_unpack);
	return 1;
}
