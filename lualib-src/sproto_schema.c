/*
 * sproto_schema.c — a compiled sproto schema, built from the binary that
 * sprotoparser produces, and the process-wide slots of sprotoloader.
 *
 * The binary is itself a sproto message of this schema:
 *   .group    { type 0 : *type   protocol 1 : *protocol }
 *   .type     { name 0 : string  fields 1 : *field }
 *   .field    { name 0 : string  buildin 1 : integer  type 2 : integer
 *               tag 3 : integer  array 4 : boolean    key 5 : integer
 *               map 6 : boolean }
 *   .protocol { name 0 : string  tag 1 : integer  request 2 : integer
 *               response 3 : integer  confirm 4 : boolean }
 * field.type is the precision of integer(p), 1 for binary, or (with no
 * buildin) the index of a struct type in group.type. protocol.request and
 * .response are type indexes too.
 *
 * Invariants of a schema that spw_schema_new returns (the encoder and
 * decoder rely on them and check nothing again): every type index and key
 * resolved to a pointer; field tags ascending in each type; a key field is a
 * plain (non-array, non-struct) field of the element type; a map's element
 * type has at least two fields; protocols sorted by tag, no tag twice.
 * A schema never changes after creation, so any thread may read it; only
 * the reference count is written, atomically.
 */
#include "sproto_wire.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything a schema owns lives in a chain of blocks freed together. */
struct block {
	struct block *next;
	max_align_t data[];
};

struct spw_schema {
	atomic_int ref;
	int ntype, nproto;
	struct spw_type *types;
	struct spw_protocol *protos;
	struct block *blocks;
};

static void *arena_alloc(struct spw_schema *s, size_t n)
{
	struct block *b = malloc(sizeof(*b) + (n ? n : 1));
	if (b == NULL)
		return NULL;
	memset(b->data, 0, n ? n : 1);
	b->next = s->blocks;
	s->blocks = b;
	return b->data;
}

static void schema_free(struct spw_schema *s)
{
	struct block *b = s->blocks;
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	free(s);
}

struct importer {
	struct spw_schema *s;
	char *err;
	size_t errlen;
};

static int fail(struct importer *im, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->err, im->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Elements of an array of chunks (an array of strings or structs): their
 * count, or -1 if one runs past the end. */
static int count_chunks(const uint8_t *p, uint32_t size)
{
	int n = 0;
	while (size > 0) {
		if (size < 4)
			return -1;
		uint32_t sz = rd32(p);
		if (size - 4 < sz)
			return -1;
		p += 4 + sz;
		size -= 4 + sz;
		n++;
	}
	return n;
}

/* The next chunk of an array that count_chunks accepted. */
static const uint8_t *next_chunk(const uint8_t **p, uint32_t *size)
{
	uint32_t sz = rd32(*p);
	const uint8_t *chunk = *p + 4;
	*p += 4 + sz;
	*size = sz;
	return chunk;
}

static const char *import_name(struct importer *im, const struct spw_field *f)
{
	if (f->data == NULL || memchr(f->data, 0, f->size) != NULL)
		return NULL;
	char *name = arena_alloc(im->s, (size_t)f->size + 1);
	if (name == NULL)
		return NULL;
	memcpy(name, f->data, f->size);
	name[f->size] = '\0';
	return name;
}

static int import_field(struct importer *im, const char *tname, struct spw_fielddef *fd, const uint8_t *p,
                        uint32_t size, int64_t *keytag)
{
	struct spw_reader r;
	struct spw_field f;
	int rc;
	int64_t buildin = -1, type = -1, tag = -1;
	int array = 0, map = 0;
	*keytag = -1;
	if (spw_reader_init(&r, p, size) < 0)
		return fail(im, "type %s: truncated field", tname);
	while ((rc = spw_reader_next(&r, &f)) > 0) {
		if (f.tag == 0) {
			fd->name = import_name(im, &f);
			if (fd->name == NULL)
				return fail(im, "type %s: bad field name", tname);
			continue;
		}
		if (f.data != NULL || f.tag > 6)
			return fail(im, "type %s: bad field record (tag %lld)", tname, (long long)f.tag);
		switch (f.tag) {
		case 1: buildin = f.value; break;
		case 2: type = f.value; break;
		case 3: tag = f.value; break;
		case 4: array = f.value != 0; break;
		case 5: *keytag = f.value; break;
		case 6: map = f.value != 0; break;
		}
	}
	if (rc < 0)
		return fail(im, "type %s: truncated field", tname);
	if (fd->name == NULL || tag < 0)
		return fail(im, "type %s: field without name or tag", tname);
	fd->tag = (int)tag;
	fd->array = (uint8_t)array;
	if (buildin >= 0) {
		if (buildin >= SPW_STRUCT)
			return fail(im, "type %s.%s: unknown builtin type %lld", tname, fd->name,
			            (long long)buildin);
		fd->kind = (uint8_t)buildin;
		if (type >= 0) {
			if (fd->kind == SPW_INTEGER) {
				if (type > 18)
					return fail(im, "type %s.%s: precision %lld too large", tname,
					            fd->name, (long long)type);
				fd->precision = (int)type;
				fd->scale = 1;
				for (int i = 0; i < type; i++)
					fd->scale *= 10;
				if (type == 0)
					fd->scale = 0;
			} else if (fd->kind == SPW_STRING) {
				fd->binary = type != 0;
			} else {
				return fail(im, "type %s.%s: a %s has no subtype", tname, fd->name,
				            fd->kind == SPW_BOOLEAN ? "boolean" : "double");
			}
		}
	} else {
		if (type < 0 || type >= im->s->ntype)
			return fail(im, "type %s.%s: bad type index %lld", tname, fd->name, (long long)type);
		fd->kind = SPW_STRUCT;
		fd->st = &im->s->types[type];
	}
	if (*keytag >= 0 && (!fd->array || fd->kind != SPW_STRUCT))
		return fail(im, "type %s.%s: a main index needs an array of structs", tname, fd->name);
	if (map && *keytag < 0)
		return fail(im, "type %s.%s: map without key", tname, fd->name);
	fd->map = (uint8_t)map;
	return 0;
}

/* keytags: one per field, filled for the second pass (resolve_keys). */
static int import_type(struct importer *im, struct spw_type *t, const uint8_t *p, uint32_t size,
                       int64_t **keytags)
{
	struct spw_reader r;
	struct spw_field f;
	int rc;
	const uint8_t *fields = NULL;
	uint32_t fsize = 0;
	t->magic = SPW_TYPE_MAGIC;
	t->base = -1;
	*keytags = NULL;
	if (spw_reader_init(&r, p, size) < 0)
		return fail(im, "truncated type");
	while ((rc = spw_reader_next(&r, &f)) > 0) {
		if (f.tag == 0) {
			t->name = import_name(im, &f);
			if (t->name == NULL)
				return fail(im, "bad type name");
		} else if (f.tag == 1 && f.data != NULL) {
			fields = f.data;
			fsize = f.size;
		} else {
			return fail(im, "bad type record (tag %lld)", (long long)f.tag);
		}
	}
	if (rc < 0 || t->name == NULL)
		return fail(im, "truncated type or type without name");
	int n = fields ? count_chunks(fields, fsize) : 0;
	if (n < 0)
		return fail(im, "type %s: truncated fields", t->name);
	t->n = n;
	t->maxn = n;
	if (n == 0)
		return 0;
	t->f = arena_alloc(im->s, sizeof(*t->f) * (size_t)n);
	*keytags = arena_alloc(im->s, sizeof(**keytags) * (size_t)n);
	if (t->f == NULL || *keytags == NULL)
		return fail(im, "out of memory");
	int last = -1;
	for (int i = 0; i < n; i++) {
		uint32_t sz;
		const uint8_t *chunk = next_chunk(&fields, &sz);
		if (import_field(im, t->name, &t->f[i], chunk, sz, &(*keytags)[i]) < 0)
			return -1;
		if (t->f[i].tag <= last)
			return fail(im, "type %s: field tags not ascending", t->name);
		if (t->f[i].tag > last + 1)
			t->maxn++; /* a skip entry before this field */
		last = t->f[i].tag;
	}
	if (t->f[n - 1].tag - t->f[0].tag + 1 == n)
		t->base = t->f[0].tag;
	return 0;
}

static int resolve_keys(struct importer *im, struct spw_type *t, const int64_t *keytags)
{
	for (int i = 0; i < t->n; i++) {
		struct spw_fielddef *fd = &t->f[i];
		if (keytags[i] < 0)
			continue;
		const struct spw_type *st = fd->st;
		if (fd->map) {
			if (st->n < 2)
				return fail(im, "type %s.%s: map of %s needs two fields", t->name, fd->name,
				            st->name);
			fd->key = &st->f[0];
			fd->value = &st->f[1];
		} else {
			fd->key = spw_type_field(st, keytags[i]);
		}
		if (fd->key == NULL || fd->key->kind == SPW_STRUCT || fd->key->array)
			return fail(im, "type %s.%s: bad main index of %s", t->name, fd->name, st->name);
	}
	return 0;
}

static int import_protocol(struct importer *im, struct spw_protocol *pr, const uint8_t *p, uint32_t size)
{
	struct spw_reader r;
	struct spw_field f;
	int rc;
	int64_t tag = -1, req = -1, resp = -1;
	if (spw_reader_init(&r, p, size) < 0)
		return fail(im, "truncated protocol");
	while ((rc = spw_reader_next(&r, &f)) > 0) {
		if (f.tag == 0) {
			pr->name = import_name(im, &f);
			if (pr->name == NULL)
				return fail(im, "bad protocol name");
			continue;
		}
		if (f.data != NULL || f.tag > 4)
			return fail(im, "bad protocol record (tag %lld)", (long long)f.tag);
		switch (f.tag) {
		case 1: tag = f.value; break;
		case 2: req = f.value; break;
		case 3: resp = f.value; break;
		case 4: pr->confirm = f.value != 0; break;
		}
	}
	if (rc < 0 || pr->name == NULL || tag < 0)
		return fail(im, "truncated protocol, or one without name or tag");
	pr->tag = (int)tag;
	if (req >= im->s->ntype || resp >= im->s->ntype)
		return fail(im, "protocol %s: bad type index", pr->name);
	pr->request = req >= 0 ? &im->s->types[req] : NULL;
	pr->response = resp >= 0 ? &im->s->types[resp] : NULL;
	return 0;
}

static int cmp_proto(const void *a, const void *b)
{
	const struct spw_protocol *x = a, *y = b;
	return (x->tag > y->tag) - (x->tag < y->tag);
}

static int import_group(struct importer *im, const uint8_t *bin, size_t len)
{
	struct spw_schema *s = im->s;
	struct spw_reader r;
	struct spw_field f;
	int rc;
	const uint8_t *types = NULL, *protos = NULL;
	uint32_t tsize = 0, psize = 0;
	if (spw_reader_init(&r, bin, len) < 0)
		return fail(im, "not a sproto schema (too short)");
	while ((rc = spw_reader_next(&r, &f)) > 0) {
		if (f.data == NULL || f.tag > 1)
			return fail(im, "not a sproto schema (bad group)");
		if (f.tag == 0) {
			types = f.data;
			tsize = f.size;
		} else {
			protos = f.data;
			psize = f.size;
		}
	}
	if (rc < 0)
		return fail(im, "not a sproto schema (truncated)");
	s->ntype = types ? count_chunks(types, tsize) : 0;
	s->nproto = protos ? count_chunks(protos, psize) : 0;
	if (s->ntype < 0 || s->nproto < 0)
		return fail(im, "not a sproto schema (truncated list)");
	s->types = arena_alloc(s, sizeof(*s->types) * (size_t)s->ntype);
	s->protos = arena_alloc(s, sizeof(*s->protos) * (size_t)s->nproto);
	int64_t **keytags = arena_alloc(s, sizeof(*keytags) * (size_t)s->ntype);
	if (s->types == NULL || s->protos == NULL || keytags == NULL)
		return fail(im, "out of memory");
	for (int i = 0; i < s->ntype; i++) {
		uint32_t sz;
		const uint8_t *chunk = next_chunk(&types, &sz);
		if (import_type(im, &s->types[i], chunk, sz, &keytags[i]) < 0)
			return -1;
	}
	for (int i = 0; i < s->ntype; i++)
		if (keytags[i] && resolve_keys(im, &s->types[i], keytags[i]) < 0)
			return -1;
	for (int i = 0; i < s->nproto; i++) {
		uint32_t sz;
		const uint8_t *chunk = next_chunk(&protos, &sz);
		if (import_protocol(im, &s->protos[i], chunk, sz) < 0)
			return -1;
	}
	qsort(s->protos, (size_t)s->nproto, sizeof(*s->protos), cmp_proto);
	for (int i = 1; i < s->nproto; i++)
		if (s->protos[i].tag == s->protos[i - 1].tag)
			return fail(im, "protocol tag %d used twice", s->protos[i].tag);
	return 0;
}

struct spw_schema *spw_schema_new(const uint8_t *bin, size_t len, char *err, size_t errlen)
{
	struct spw_schema *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&s->ref, 1);
	struct importer im = { s, err, errlen };
	if (import_group(&im, bin, len) < 0) {
		schema_free(s);
		return NULL;
	}
	return s;
}

void spw_schema_retain(struct spw_schema *s)
{
	atomic_fetch_add_explicit(&s->ref, 1, memory_order_relaxed);
}

void spw_schema_release(struct spw_schema *s)
{
	if (s && atomic_fetch_sub_explicit(&s->ref, 1, memory_order_acq_rel) == 1)
		schema_free(s);
}

struct spw_type *spw_schema_type(const struct spw_schema *s, const char *name)
{
	for (int i = 0; i < s->ntype; i++)
		if (strcmp(s->types[i].name, name) == 0)
			return &s->types[i];
	return NULL;
}

const struct spw_protocol *spw_schema_proto_bytag(const struct spw_schema *s, int64_t tag)
{
	int lo = 0, hi = s->nproto;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (s->protos[mid].tag == tag)
			return &s->protos[mid];
		if (s->protos[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct spw_protocol *spw_schema_proto_byname(const struct spw_schema *s, const char *name)
{
	for (int i = 0; i < s->nproto; i++)
		if (strcmp(s->protos[i].name, name) == 0)
			return &s->protos[i];
	return NULL;
}

int spw_schema_ntype(const struct spw_schema *s)
{
	return s->ntype;
}
struct spw_type *spw_schema_type_at(const struct spw_schema *s, int i)
{
	return &s->types[i];
}
int spw_schema_nproto(const struct spw_schema *s)
{
	return s->nproto;
}
const struct spw_protocol *spw_schema_proto_at(const struct spw_schema *s, int i)
{
	return &s->protos[i];
}

const struct spw_fielddef *spw_type_field(const struct spw_type *st, int64_t tag)
{
	if (st->base >= 0) {
		int64_t i = tag - st->base;
		return i >= 0 && i < st->n ? &st->f[i] : NULL;
	}
	int lo = 0, hi = st->n;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (st->f[mid].tag == tag)
			return &st->f[mid];
		if (st->f[mid].tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* sprotoloader's slots. The lock makes "read the slot, take a reference"
 * one step, so a schema replaced in its slot is never freed under a loader. */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static struct spw_schema *slots[SPW_SLOTS];

int spw_slot_store(int index, struct spw_schema *s)
{
	if (index < 0 || index >= SPW_SLOTS)
		return -1;
	spw_schema_retain(s);
	pthread_mutex_lock(&slot_lock);
	struct spw_schema *old = slots[index];
	slots[index] = s;
	pthread_mutex_unlock(&slot_lock);
	spw_schema_release(old);
	return 0;
}

struct spw_schema *spw_slot_load(int index)
{
	if (index < 0 || index >= SPW_SLOTS)
		return NULL;
	pthread_mutex_lock(&slot_lock);
	struct spw_schema *s = slots[index];
	if (s)
		spw_schema_retain(s);
	pthread_mutex_unlock(&slot_lock);
	return s;
}
