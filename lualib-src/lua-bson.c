/*
 * lua-bson.c — the `bson` module: BSON documents (bsonspec.org) for Lua, with
 * skynet's API.
 *
 *   bson.encode(t)              -> bson object (userdata; tostring gives the bytes)
 *   bson.encode_order(k, v, ...)-> the same, keys in the order given
 *   bson.decode(b)              -> table; b is a bson object or a string of bytes
 *   b:decode()                  -> the same
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
 */
#include <lauxlib.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua-db.h"

#define MAX_DEPTH 128
#define META "bson"

enum {
	T_DOUBLE = 0x01, T_STRING = 0x02, T_DOCUMENT = 0x03, T_ARRAY = 0x04,
	T_BINARY = 0x05, T_UNDEFINED = 0x06, T_OBJECTID = 0x07, T_BOOLEAN = 0x08,
	T_DATE = 0x09, T_NULL = 0x0a, T_REGEX = 0x0b, T_DBPOINTER = 0x0c,
	T_CODE = 0x0d, T_SYMBOL = 0x0e, T_CODEWS = 0x0f, T_INT32 = 0x10,
	T_TIMESTAMP = 0x11, T_INT64 = 0x12, T_DECIMAL128 = 0x13,
	T_MINKEY = 0xff, T_MAXKEY = 0x7f,
};

/* ------------------------------------------------------------ little-endian */

static uint32_t
get32(const uint8_t *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p) {
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put32(uint8_t *p, uint32_t v) {
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v) {
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing past U+10FFFF */
static size_t
utf8_len(const uint8_t *s, size_t n) {
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0) {
		len = 2; cp = c & 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3; cp = c & 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4; cp = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
utf8_valid(const uint8_t *s, size_t n) {
	while (n > 0) {
		size_t k = utf8_len(s, n);
		if (k == 0)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

/* ------------------------------------------------------------ decoding */

/* A bounded view of the input; every read checks what is left first. */
struct reader {
	lua_State *L;
	const uint8_t *p;
	size_t left;
};

static int
bad(lua_State *L, const char *what) {
	return luaL_error(L, "Invalid bson: %s", what);
}

static const uint8_t *
take(struct reader *r, size_t n, const char *what) {
	if (n > r->left)
		bad(r->L, what);
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static int32_t
take_i32(struct reader *r, const char *what) {
	return (int32_t)get32(take(r, 4, what));
}

/* a NUL-terminated key or regex part, UTF-8 checked; returns its length */
static const char *
take_cstring(struct reader *r, size_t *len) {
	const uint8_t *end = memchr(r->p, 0, r->left);
	if (end == NULL)
		bad(r->L, "cstring without its NUL");
	size_t n = (size_t)(end - r->p);
	if (!utf8_valid(r->p, n))
		bad(r->L, "cstring is not UTF-8");
	*len = n;
	return (const char *)take(r, n + 1, "cstring");
}

/* a BSON string: int32 length (with the NUL) then bytes then NUL */
static const char *
take_string(struct reader *r, size_t *len) {
	int32_t n = take_i32(r, "string length");
	if (n < 1)
		bad(r->L, "string length below 1");
	const uint8_t *s = take(r, (size_t)n, "string longer than its container");
	if (s[n - 1] != 0)
		bad(r->L, "string without its NUL");
	if (!utf8_valid(s, (size_t)n - 1))
		bad(r->L, "string is not UTF-8");
	*len = (size_t)n - 1;
	return (const char *)s;
}

static void decode_doc(struct reader *r, int array, int depth);

/* push "\0" type payload */
static void
push_special(lua_State *L, int type, const void *payload, size_t n) {
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addchar(&b, '\0');
	luaL_addchar(&b, (char)type);
	luaL_addlstring(&b, (const char *)payload, n);
	luaL_pushresult(&b);
}

/* the value of one element of type `type`; pushes it */
static void
decode_value(struct reader *r, int type, int depth) {
	lua_State *L = r->L;
	size_t n;
	switch (type) {
	case T_DOUBLE: {
		uint64_t u = get64(take(r, 8, "double"));
		double d;
		memcpy(&d, &u, sizeof(d));
		lua_pushnumber(L, d);
		break;
	}
	case T_STRING: {
		const char *s = take_string(r, &n);
		lua_pushlstring(L, s, n);
		break;
	}
	case T_DOCUMENT:
	case T_ARRAY:
		decode_doc(r, type == T_ARRAY, depth + 1);
		break;
	case T_BINARY: {
		int32_t len = take_i32(r, "binary length");
		if (len < 0)
			bad(L, "negative binary length");
		const uint8_t *sub = take(r, 1, "binary subtype");
		const uint8_t *data = take(r, (size_t)len, "binary longer than its container");
		if (*sub == 2 && (len < 4 || (int32_t)get32(data) != len - 4))
			bad(L, "binary subtype 2 with a wrong inner length");
		luaL_Buffer b;
		luaL_buffinit(L, &b);
		luaL_addchar(&b, '\0');
		luaL_addchar(&b, T_BINARY);
		luaL_addchar(&b, (char)*sub);
		luaL_addlstring(&b, (const char *)data, (size_t)len);
		luaL_pushresult(&b);
		break;
	}
	case T_OBJECTID:
		push_special(L, T_OBJECTID, take(r, 12, "objectid"), 12);
		break;
	case T_BOOLEAN: {
		uint8_t v = *take(r, 1, "boolean");
		if (v > 1)
			bad(L, "boolean neither 0 nor 1");
		lua_pushboolean(L, v);
		break;
	}
	case T_DATE: {
		int64_t ms = (int64_t)get64(take(r, 8, "date"));
		if (ms >= 0 && ms % 1000 == 0 && ms / 1000 <= UINT32_MAX) {
			uint8_t sec[4];
			put32(sec, (uint32_t)(ms / 1000));
			push_special(L, T_DATE, sec, 4);
		} else {
			uint8_t v[8];
			put64(v, (uint64_t)ms);
			push_special(L, T_DATE, v, 8);
		}
		break;
	}
	case T_UNDEFINED:
	case T_NULL:
	case T_MINKEY:
	case T_MAXKEY:
		push_special(L, type, NULL, 0);
		break;
	case T_REGEX: {
		const uint8_t *start = r->p;
		size_t a, b;
		take_cstring(r, &a);
		take_cstring(r, &b);
		push_special(L, T_REGEX, start, a + b + 2);
		break;
	}
	case T_DBPOINTER: {
		const uint8_t *start = r->p;
		take_string(r, &n);
		take(r, 12, "dbpointer id");
		push_special(L, T_DBPOINTER, start, (size_t)(r->p - start));
		break;
	}
	case T_CODE:
	case T_SYMBOL: {
		const uint8_t *start = r->p;
		take_string(r, &n);
		push_special(L, type, start, (size_t)(r->p - start));
		break;
	}
	case T_CODEWS: {
		const uint8_t *start = r->p;
		int32_t total = take_i32(r, "code_w_scope length");
		if (total < 14 || (size_t)total - 4 > r->left)
			bad(L, "code_w_scope length");
		struct reader inner = { L, r->p, (size_t)total - 4 };
		take_string(&inner, &n);
		decode_doc(&inner, 0, depth + 1);
		lua_pop(L, 1);
		if (inner.left != 0)
			bad(L, "code_w_scope length does not match its parts");
		take(r, (size_t)total - 4, "code_w_scope");
		push_special(L, T_CODEWS, start, (size_t)total);
		break;
	}
	case T_INT32:
		lua_pushinteger(L, take_i32(r, "int32"));
		break;
	case T_TIMESTAMP:
		push_special(L, T_TIMESTAMP, take(r, 8, "timestamp"), 8);
		break;
	case T_INT64:
		lua_pushinteger(L, (lua_Integer)get64(take(r, 8, "int64")));
		break;
	case T_DECIMAL128:
		push_special(L, T_DECIMAL128, take(r, 16, "decimal128"), 16);
		break;
	default:
		luaL_error(L, "Invalid bson: unknown element type %d", type);
	}
}

/* a document or array at r (length, elements, NUL); pushes a table */
static void
decode_doc(struct reader *r, int array, int depth) {
	lua_State *L = r->L;
	if (depth > MAX_DEPTH)
		bad(L, "nested too deep");
	luaL_checkstack(L, 8, "bson nesting");
	int32_t len = take_i32(r, "document length");
	if (len < 5)
		bad(L, "document length below 5");
	const uint8_t *body = take(r, (size_t)len - 4, "document longer than its container");
	if (body[len - 5] != 0)
		bad(L, "document without its final NUL");
	struct reader d = { L, body, (size_t)len - 5 };
	lua_newtable(L);
	lua_Integer index = 0;
	while (d.left > 0) {
		int type = *take(&d, 1, "element type");
		size_t klen;
		const char *key = take_cstring(&d, &klen);
		/* an array's keys should be "0", "1", ...; the position is what counts */
		if (array)
			lua_pushinteger(L, ++index);
		else
			lua_pushlstring(L, key, klen);
		decode_value(&d, type, depth);
		lua_rawset(L, -3);
	}
}

/* the bytes of a bson object or a string argument */
static const uint8_t *
doc_bytes(lua_State *L, int idx, size_t *n) {
	if (lua_type(L, idx) == LUA_TSTRING)
		return (const uint8_t *)lua_tolstring(L, idx, n);
	void *ud = luaL_checkudata(L, idx, META);
	*n = lua_rawlen(L, idx);
	return ud;
}

static int
ldecode(lua_State *L) {
	size_t n;
	const uint8_t *p = doc_bytes(L, 1, &n);
	if (n < 5 || get32(p) != n)
		return bad(L, "document length does not match the data");
	struct reader r = { L, p, n };
	decode_doc(&r, 0, 0);
	return 1;
}

/* ------------------------------------------------------------ encoding */

/* The growing output, in a userdata whose __gc frees it: an error raised
 * in the middle of encoding leaks nothing. */
struct out {
	uint8_t *p;
	size_t n, cap;
};

static int
out_gc(lua_State *L) {
	struct out *o = lua_touserdata(L, 1);
	free(o->p);
	o->p = NULL;
	return 0;
}

static uint8_t *
grow(lua_State *L, struct out *o, size_t n) {
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

static void
put_bytes(lua_State *L, struct out *o, const void *s, size_t n) {
	if (n > 0 && s != NULL)
		memcpy(grow(L, o, n), s, n);
}

static void
put_byte(lua_State *L, struct out *o, uint8_t b) {
	*grow(L, o, 1) = b;
}

static void
put_i32(lua_State *L, struct out *o, uint32_t v) {
	put32(grow(L, o, 4), v);
}

static void
put_i64(lua_State *L, struct out *o, uint64_t v) {
	put64(grow(L, o, 8), v);
}

static void
put_key(lua_State *L, struct out *o, int type, const char *key, size_t klen) {
	if (memchr(key, 0, klen) != NULL)
		luaL_error(L, "bson key contains a NUL byte");
	if (!utf8_valid((const uint8_t *)key, klen))
		luaL_error(L, "Invalid utf8 string (key)");
	put_byte(L, o, (uint8_t)type);
	put_bytes(L, o, key, klen);
	put_byte(L, o, 0);
}

static void encode_table(lua_State *L, struct out *o, const char *key, size_t klen, int depth);

/* the payload of a special string must be what the wire holds for its type:
 * checked by decoding it */
static void
check_payload(lua_State *L, int type, const uint8_t *p, size_t n) {
	struct reader r = { L, p, n };
	decode_value(&r, type, MAX_DEPTH - 1);
	lua_pop(L, 1);
	if (r.left != 0)
		luaL_error(L, "Invalid bson value of type %d: %d bytes too many", type, (int)r.left);
}

static void
encode_special(lua_State *L, struct out *o, const char *key, size_t klen, const uint8_t *s, size_t n) {
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
	case T_DECIMAL128:
		check_payload(L, type, p, n);
		break;
	default:
		luaL_error(L, "Invalid subtype %d", type);
	}
	put_key(L, o, type, key, klen);
	put_bytes(L, o, p, n);
}

/* the value at the top of the stack, under `key` */
static void
encode_value(lua_State *L, struct out *o, const char *key, size_t klen, int depth) {
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
		if (!utf8_valid(s, n))
			luaL_error(L, "Invalid utf8 string");
		if (n >= INT32_MAX)
			luaL_error(L, "string larger than 2 GiB");
		put_key(L, o, T_STRING, key, klen);
		put_i32(L, o, (uint32_t)(n + 1));
		put_bytes(L, o, s, n);
		put_byte(L, o, 0);
		break;
	}
	case LUA_TTABLE:
		encode_table(L, o, key, klen, depth + 1);
		break;
	case LUA_TUSERDATA: {
		/* an encoded document, embedded as it is */
		void *ud = luaL_testudata(L, -1, META);
		if (ud == NULL)
			luaL_error(L, "Invalid value type : userdata");
		put_key(L, o, T_DOCUMENT, key, klen);
		put_bytes(L, o, ud, lua_rawlen(L, -1));
		break;
	}
	case LUA_TNIL:
		luaL_error(L, "Bson array has a hole (nil), Use bson.null instead");
		break;
	default:
		luaL_error(L, "Invalid value type : %s", lua_typename(L, t));
	}
}

/* start a document: its length is patched by doc_end */
static size_t
doc_begin(lua_State *L, struct out *o) {
	size_t at = o->n;
	grow(L, o, 4);
	return at;
}

static void
doc_end(lua_State *L, struct out *o, size_t at) {
	put_byte(L, o, 0);
	put32(o->p + at, (uint32_t)(o->n - at));
}

/* the key/value pair at -2/-1 of a document; pops the value */
static void
encode_pair(lua_State *L, struct out *o, int depth) {
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

static void
encode_array_body(lua_State *L, struct out *o, lua_Integer len, int depth) {
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
static void
encode_dict_body(lua_State *L, struct out *o, int depth) {
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
			lua_replace(L, -2); /* k is the new control */
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
static int
array_length(lua_State *L, lua_Integer *len) {
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

static void
encode_table(lua_State *L, struct out *o, const char *key, size_t klen, int depth) {
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

static const luaL_Reg doc_methods[] = {
	{ "decode", ldecode },
	{ NULL, NULL },
};

static int
ltostring(lua_State *L) {
	void *ud = luaL_checkudata(L, 1, META);
	lua_pushlstring(L, ud, lua_rawlen(L, 1));
	return 1;
}

static int
llen(lua_State *L) {
	luaL_checkudata(L, 1, META);
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
	return 1;
}

/* a new output at the top of the stack */
static struct out *
new_out(lua_State *L) {
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
 * now; its userdata goes with the next collection) */
static int
finish(lua_State *L, struct out *o) {
	void *ud = lua_newuserdatauv(L, o->n, 0);
	memcpy(ud, o->p, o->n);
	luaL_setmetatable(L, META);
	free(o->p);
	o->p = NULL;
	return 1;
}

static int
lencode(lua_State *L) {
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	struct out *o = new_out(L);
	lua_pushvalue(L, 1);
	encode_dict_body(L, o, 0);
	lua_pop(L, 1);
	return finish(L, o);
}

static int
lencode_order(lua_State *L) {
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

/* ------------------------------------------------------------ constructors */

static int
lint64(lua_State *L) {
	uint8_t v[8];
	put64(v, (uint64_t)luaL_checkinteger(L, 1));
	push_special(L, T_INT64, v, 8);
	return 1;
}

/* date(seconds[, milliseconds]): skynet's 4-byte seconds form when it holds
 * the value, else 8 bytes of milliseconds */
static int
ldate(lua_State *L) {
	lua_Integer sec = luaL_checkinteger(L, 1);
	lua_Integer ms = luaL_optinteger(L, 2, 0);
	if (ms == 0 && sec >= 0 && sec <= (lua_Integer)UINT32_MAX) {
		uint8_t v[4];
		put32(v, (uint32_t)sec);
		push_special(L, T_DATE, v, 4);
	} else {
		uint8_t v[8];
		put64(v, (uint64_t)(sec * 1000 + ms));
		push_special(L, T_DATE, v, 8);
	}
	return 1;
}

static atomic_uint_least32_t ts_counter;

/* timestamp(seconds[, increment]); without one, a process-wide counter */
static int
ltimestamp(lua_State *L) {
	lua_Integer sec = luaL_checkinteger(L, 1);
	uint32_t inc;
	if (lua_isnoneornil(L, 2))
		inc = (uint32_t)atomic_fetch_add(&ts_counter, 1);
	else
		inc = (uint32_t)luaL_checkinteger(L, 2);
	uint8_t v[8];
	put32(v, inc);
	put32(v + 4, (uint32_t)sec);
	push_special(L, T_TIMESTAMP, v, 8);
	return 1;
}

static int
lregex(lua_State *L) {
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

static int
lbinary(lua_State *L) {
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

static int
hexval(int c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* objectid(): 4 bytes of time (big-endian), 5 random bytes per process, a
 * 3-byte counter (big-endian); objectid(hex): those 12 bytes */
static int
lobjectid(lua_State *L) {
	uint8_t id[12];
	if (!lua_isnoneornil(L, 1)) {
		size_t n;
		const char *hex = luaL_checklstring(L, 1, &n);
		if (n != 24)
			return luaL_error(L, "Invalid objectid %s", hex);
		for (int i = 0; i < 12; i++) {
			int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
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
	push_special(L, T_OBJECTID, id, 12);
	return 1;
}

/* ------------------------------------------------------------ bson.type */

static int
ltype(lua_State *L) {
	int t = lua_type(L, 1);
	switch (t) {
	case LUA_TNUMBER:
	case LUA_TBOOLEAN:
	case LUA_TTABLE:
		lua_pushstring(L, lua_typename(L, t));
		lua_pushvalue(L, 1);
		return 2;
	case LUA_TNIL:
		lua_pushliteral(L, "nil");
		return 1;
	case LUA_TSTRING:
		break;
	default:
		return luaL_error(L, "Invalid type %s", lua_typename(L, t));
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
		static const char digits[] = "0123456789abcdef";
		char hex[24];
		for (int i = 0; i < 12; i++) {
			hex[2 * i] = digits[p[i] >> 4];
			hex[2 * i + 1] = digits[p[i] & 15];
		}
		lua_pushliteral(L, "objectid");
		lua_pushlstring(L, hex, 24);
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
	case T_MINKEY:
		lua_pushliteral(L, "minkey");
		return 1;
	case T_MAXKEY:
		lua_pushliteral(L, "maxkey");
		return 1;
	case T_NULL:
		lua_pushliteral(L, "nil");
		return 1;
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
	default:
		return luaL_error(L, "Invalid subtype %d", s[1]);
	}
}

int
luaopen_bson(lua_State *L) {
	luaL_checkversion(L);
	if (sodium_init() < 0)
		return luaL_error(L, "bson: sodium_init failed");
	/* once per process; a second state only redraws the same kind of bytes */
	static atomic_flag seeded = ATOMIC_FLAG_INIT;
	if (!atomic_flag_test_and_set(&seeded)) {
		randombytes_buf(oid_random, sizeof(oid_random));
		atomic_store(&oid_counter, randombytes_uniform(1u << 24));
	}
	if (luaL_newmetatable(L, META)) {
		luaL_newlib(L, doc_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, ltostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushcfunction(L, llen);
		lua_setfield(L, -2, "__len");
	}
	lua_pop(L, 1);
	static const luaL_Reg l[] = {
		{ "encode", lencode },
		{ "encode_order", lencode_order },
		{ "decode", ldecode },
		{ "date", ldate },
		{ "timestamp", ltimestamp },
		{ "regex", lregex },
		{ "binary", lbinary },
		{ "objectid", lobjectid },
		{ "int64", lint64 },
		{ "type", ltype },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	static const char null[] = { 0, T_NULL }, minkey[] = { 0, (char)T_MINKEY }, maxkey[] = { 0, T_MAXKEY };
	lua_pushlstring(L, null, 2);
	lua_setfield(L, -2, "null");
	lua_pushlstring(L, minkey, 2);
	lua_setfield(L, -2, "minkey");
	lua_pushlstring(L, maxkey, 2);
	lua_setfield(L, -2, "maxkey");
	return 1;
}
