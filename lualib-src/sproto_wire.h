/*
 * sproto_wire.h — the sproto wire format without Lua: reading an encoded
 * struct field by field, 0-packing, and the compiled schema that
 * sprotoparser produces (sproto_schema.c).  lua-sproto.c binds them to Lua.
 *
 * An encoded struct (all integers little-endian):
 *   struct  := count:u16 entry:u16{count} chunk*
 *   entry   := odd n   -> skip (n - 1) / 2 tags
 *              even n>0 -> the next tag has the inline value n / 2 - 1
 *              0        -> the next tag's value is the next chunk
 *   chunk   := size:u32 byte{size}
 * Tags start at 0 and every entry (skip or value) moves to the next tag, so
 * tags only grow: a tag appears at most once in a struct.
 */
#ifndef SKIFF_SPROTO_WIRE_H
#define SKIFF_SPROTO_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* ---- reading a struct (sproto_wire.c) ---- */

struct spw_reader {
	const uint8_t *entry; /* next field entry */
	const uint8_t *data;  /* next chunk */
	const uint8_t *end;   /* end of the input */
	unsigned left;        /* entries not yet read */
	int64_t tag;          /* tag of the last entry read; -1 before the first */
};

/* One field as the reader hands it out. */
struct spw_field {
	int64_t tag;
	const uint8_t *data; /* the chunk's bytes, or NULL for an inline value */
	uint32_t size;       /* chunk size */
	uint32_t value;      /* the inline value, when data == NULL */
};

/* Checks the header (count and entries fit in len). Returns 0, or -1. */
int spw_reader_init(struct spw_reader *r, const uint8_t *buf, size_t len);
/* The next field: 1 and *f filled, 0 at the end, -1 if a chunk runs past the
 * input. Skip entries are consumed silently. */
int spw_reader_next(struct spw_reader *r, struct spw_field *f);

/* ---- 0-packing (sproto_wire.c) ---- */

/* Largest packed size of n input bytes. */
size_t spw_pack_bound(size_t n);
/* Packs src into dst (at least spw_pack_bound(n) bytes); returns the size. */
size_t spw_pack(const uint8_t *src, size_t n, uint8_t *dst);
/* Size src unpacks to (a multiple of 8), or -1 if src is not a packed stream. */
int64_t spw_unpack_size(const uint8_t *src, size_t n);
/* Unpacks a stream spw_unpack_size accepted into dst (that many bytes). */
void spw_unpack(const uint8_t *src, size_t n, uint8_t *dst);

/* ---- compiled schemas (sproto_schema.c) ---- */

enum spw_kind { SPW_INTEGER = 0, SPW_BOOLEAN = 1, SPW_STRING = 2, SPW_DOUBLE = 3, SPW_STRUCT = 4 };

struct spw_type;

struct spw_fielddef {
	const char *name;                 /* NUL-free, NUL-terminated */
	int tag;                          /* 0 .. 32766, ascending within a type */
	uint8_t kind;                     /* enum spw_kind */
	uint8_t array;                    /* 1: *type */
	uint8_t binary;                   /* string declared as binary */
	uint8_t map;                      /* *T(): the two-field map form */
	int64_t scale;                    /* integer(p): 10^p; 0 for a plain integer */
	int precision;                    /* p of integer(p) */
	struct spw_type *st;              /* kind == SPW_STRUCT */
	const struct spw_fielddef *key;   /* *T(key): the field of st used as key;
	                                   for a map, st's first field */
	const struct spw_fielddef *value; /* map: st's second field */
};

#define SPW_TYPE_MAGIC 0x73707479u /* "spty": a type pointer handed to Lua */

struct spw_type {
	uint32_t magic;
	const char *name;
	int n;    /* fields */
	int maxn; /* entries of the longest encoding: n + gaps */
	int base; /* tag of f[0] when tags are contiguous, else -1 */
	struct spw_fielddef *f;
};

struct spw_protocol {
	const char *name;
	int tag;
	int confirm; /* `response nil`: a response without content */
	struct spw_type *request, *response;
};

struct spw_schema;

/* Compiles a binary schema. NULL and a reason in err (errlen bytes) if the
 * bytes are not one. The result has one reference. */
struct spw_schema *spw_schema_new(const uint8_t *bin, size_t len, char *err, size_t errlen);
/* Reference counting; the schema is freed when the last one goes.  Safe
 * from any thread: a schema never changes once created. */
void spw_schema_retain(struct spw_schema *s);
void spw_schema_release(struct spw_schema *s);

struct spw_type *spw_schema_type(const struct spw_schema *s, const char *name);
const struct spw_protocol *spw_schema_proto_bytag(const struct spw_schema *s, int64_t tag);
const struct spw_protocol *spw_schema_proto_byname(const struct spw_schema *s, const char *name);
int spw_schema_ntype(const struct spw_schema *s);
struct spw_type *spw_schema_type_at(const struct spw_schema *s, int i);
int spw_schema_nproto(const struct spw_schema *s);
const struct spw_protocol *spw_schema_proto_at(const struct spw_schema *s, int i);
/* The field of st with this tag, or NULL. */
const struct spw_fielddef *spw_type_field(const struct spw_type *st, int64_t tag);

/* Process-wide slots (sprotoloader.save/load): SPW_SLOTS of them, each
 * holding one reference. Returns -1 for a bad index. */
#define SPW_SLOTS 16
int spw_slot_store(int index, struct spw_schema *s);
/* A new reference to the schema in slot index, or NULL (empty or bad index). */
struct spw_schema *spw_slot_load(int index);

#endif
