/*
 * bson_decode.c — the `bson` module's decoder: BSON bytes to a Lua table
 * (and the UTF-8 check the encoder shares).
 *
 * Invariants: every length is checked against its container and every string
 * for UTF-8 before it is read, unknown types are refused, and nesting stops at
 * MAX_DEPTH: hostile bytes raise a Lua error, never read outside the input.
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bson_codec.h"

/* length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid:
 * no overlong forms, no surrogates, nothing past U+10FFFF */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
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

int bson_utf8_valid(const uint8_t *s, size_t n)
{
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

static int bad(lua_State *L, const char *what)
{
	return luaL_error(L, "Invalid bson: %s", what);
}

static const uint8_t *take(struct reader *r, size_t n, const char *what)
{
	if (n > r->left)
		bad(r->L, what);
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static int32_t take_i32(struct reader *r, const char *what)
{
	return (int32_t)get32(take(r, 4, what));
}

/* a NUL-terminated key or regex part, UTF-8 checked; returns its length */
static const char *take_cstring(struct reader *r, size_t *len)
{
	const uint8_t *end = memchr(r->p, 0, r->left);
	if (end == NULL)
		bad(r->L, "cstring without its NUL");
	size_t n = (size_t)(end - r->p);
	if (!bson_utf8_valid(r->p, n))
		bad(r->L, "cstring is not UTF-8");
	*len = n;
	return (const char *)take(r, n + 1, "cstring");
}

/* a BSON string: int32 length (with the NUL) then bytes then NUL */
static const char *take_string(struct reader *r, size_t *len)
{
	int32_t n = take_i32(r, "string length");
	if (n < 1)
		bad(r->L, "string length below 1");
	const uint8_t *s = take(r, (size_t)n, "string longer than its container");
	if (s[n - 1] != 0)
		bad(r->L, "string without its NUL");
	if (!bson_utf8_valid(s, (size_t)n - 1))
		bad(r->L, "string is not UTF-8");
	*len = (size_t)n - 1;
	return (const char *)s;
}

static void decode_doc(struct reader *r, int array, int depth);

/* the value of one element of type `type`; pushes it */
static void decode_value(struct reader *r, int type, int depth)
{
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
	case T_ARRAY: decode_doc(r, type == T_ARRAY, depth + 1); break;
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
	case T_OBJECTID: bson_push_special(L, T_OBJECTID, take(r, 12, "objectid"), 12); break;
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
			bson_push_special(L, T_DATE, sec, 4);
		} else {
			uint8_t v[8];
			put64(v, (uint64_t)ms);
			bson_push_special(L, T_DATE, v, 8);
		}
		break;
	}
	case T_UNDEFINED:
	case T_NULL:
	case T_MINKEY:
	case T_MAXKEY: bson_push_special(L, type, NULL, 0); break;
	case T_REGEX: {
		const uint8_t *start = r->p;
		size_t a, b;
		take_cstring(r, &a);
		take_cstring(r, &b);
		bson_push_special(L, T_REGEX, start, a + b + 2);
		break;
	}
	case T_DBPOINTER: {
		const uint8_t *start = r->p;
		take_string(r, &n);
		take(r, 12, "dbpointer id");
		bson_push_special(L, T_DBPOINTER, start, (size_t)(r->p - start));
		break;
	}
	case T_CODE:
	case T_SYMBOL: {
		const uint8_t *start = r->p;
		take_string(r, &n);
		bson_push_special(L, type, start, (size_t)(r->p - start));
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
		bson_push_special(L, T_CODEWS, start, (size_t)total);
		break;
	}
	case T_INT32: lua_pushinteger(L, take_i32(r, "int32")); break;
	case T_TIMESTAMP: bson_push_special(L, T_TIMESTAMP, take(r, 8, "timestamp"), 8); break;
	case T_INT64: lua_pushinteger(L, (lua_Integer)get64(take(r, 8, "int64"))); break;
	case T_DECIMAL128: bson_push_special(L, T_DECIMAL128, take(r, 16, "decimal128"), 16); break;
	default: luaL_error(L, "Invalid bson: unknown element type %d", type);
	}
}

/* a document or array at r (length, elements, NUL); pushes a table */
static void decode_doc(struct reader *r, int array, int depth)
{
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
static const uint8_t *doc_bytes(lua_State *L, int idx, size_t *n)
{
	if (lua_type(L, idx) == LUA_TSTRING)
		return (const uint8_t *)lua_tolstring(L, idx, n);
	void *ud = luaL_checkudata(L, idx, META);
	*n = lua_rawlen(L, idx);
	return ud;
}

int bson_ldecode(lua_State *L)
{
	size_t n;
	const uint8_t *p = doc_bytes(L, 1, &n);
	if (n < 5 || get32(p) != n)
		return bad(L, "document length does not match the data");
	struct reader r = { L, p, n };
	decode_doc(&r, 0, 0);
	return 1;
}

/* the payload of a special string must be what the wire holds for its type:
 * checked by decoding it */
void bson_check_payload(lua_State *L, int type, const uint8_t *p, size_t n)
{
	struct reader r = { L, p, n };
	decode_value(&r, type, MAX_DEPTH - 1);
	lua_pop(L, 1);
	if (r.left != 0)
		luaL_error(L, "Invalid bson value of type %d: %d bytes too many", type, (int)r.left);
}
