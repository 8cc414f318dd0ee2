/*
 * bson_codec.h — what the files of the `bson` module share: the BSON type
 * bytes, the limits, little-endian access, and the entry points of the
 * decoder (bson_decode.c), the encoder (bson_encode.c) and the value
 * constructors (bson_values.c).  Internal to lua-bson.c's module; its public
 * entry point is in lua-db.h.  The value representation is described at the
 * top of lua-bson.c.
 */
#ifndef SKIFF_BSON_CODEC_H
#define SKIFF_BSON_CODEC_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_DEPTH 128 /* nesting limit, both ways */
#define META "bson"   /* metatable of a bson object (a userdata of bytes) */

enum {
	T_DOUBLE = 0x01,
	T_STRING = 0x02,
	T_DOCUMENT = 0x03,
	T_ARRAY = 0x04,
	T_BINARY = 0x05,
	T_UNDEFINED = 0x06,
	T_OBJECTID = 0x07,
	T_BOOLEAN = 0x08,
	T_DATE = 0x09,
	T_NULL = 0x0a,
	T_REGEX = 0x0b,
	T_DBPOINTER = 0x0c,
	T_CODE = 0x0d,
	T_SYMBOL = 0x0e,
	T_CODEWS = 0x0f,
	T_INT32 = 0x10,
	T_TIMESTAMP = 0x11,
	T_INT64 = 0x12,
	T_DECIMAL128 = 0x13,
	T_MINKEY = 0xff,
	T_MAXKEY = 0x7f,
};

/* ------------------------------------------------------------ little-endian */

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* 1 if the n bytes at s are valid UTF-8 (no overlong forms, no surrogates,
 * nothing past U+10FFFF), else 0 (bson_decode.c) */
int bson_utf8_valid(const uint8_t *s, size_t n);
/* pushes the special string "\0" type payload (bson_values.c) */
void bson_push_special(lua_State *L, int type, const void *payload, size_t n);

/* decode(b) -> table; b a bson object or a string (bson_decode.c) */
int bson_ldecode(lua_State *L);
/* raises unless the n bytes at p are exactly one payload of BSON type `type`
 * (the encoder checks the special strings with it) */
void bson_check_payload(lua_State *L, int type, const uint8_t *p, size_t n);
/* encode(t), encode_order(k, v, ...) -> bson object (bson_encode.c) */
int bson_lencode(lua_State *L);
int bson_lencode_order(lua_State *L);
/* pushes the value at idx encoded as an element without its key: the type
 * byte, then the payload (bson_encode.c) */
void bson_encode_element(lua_State *L, int idx);
/* b:makeindex() and b[key] = value on an indexed object (bson_index.c) */
int bson_lmakeindex(lua_State *L);
int bson_lreplace(lua_State *L);
/* sets date, timestamp, regex, binary, objectid, int64 and type in the table
 * at the top of the stack; seeds the ObjectId generator once per process
 * (bson_values.c) */
void bson_values_register(lua_State *L);

#endif
