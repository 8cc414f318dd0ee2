/*
 * lua-sharebox.c — skynet.sharebox: immutable Lua data held once per process
 * and read from any number of services.  It is the core under
 * skynet.sharetable, skynet.sharedata and skynet.datasheet.
 *
 * A box is built from a Lua table (nested tables, strings, numbers, booleans)
 * into one block of C memory: nodes (one per table), their array parts, their
 * hash entries (in the order lua_next gave them, which is the order pairs
 * walks) with an open-addressing index, and the strings.  A box never changes
 * after it is built; it is freed when its reference count drops to zero.
 * Readers in many services (on many threads) only read it: no lock.
 *
 * In a service, a box is a userdata holding one reference.  Its tables are
 * seen through proxies: empty Lua tables whose metatable answers __index,
 * __len and __pairs from the box, and which keep every value they hand out
 * (rawset), so the second read of a field is a plain table read.  A service
 * pays only for what it reads.  Proxies of one box are kept in the box
 * userdata's user values (see push_box), so t.c == t.c.
 *
 * Update: repoint(old, new) gives every live proxy of the old box the data
 * at the same path in the new box (its cached fields are dropped), so a
 * reader that holds a table keeps seeing "its" table, now with the new
 * contents, and never a mix: the switch happens inside one call.
 *
 * Passing a box to another service: retain(box) returns a handle (an
 * integer) carrying one reference; open(handle) in the receiver adopts that
 * reference.  Each handle must be opened exactly once.
 *
 * A proxy whose path holds no table after an update raises an error when
 * read, as the table it stood for is gone.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"
#include "skynet_malloc.h"

enum { SB_NIL, SB_FALSE, SB_TRUE, SB_INT, SB_NUM, SB_STR, SB_TABLE };

struct sb_value {
	uint32_t type;
	uint32_t len; /* SB_STR: length */
	union {
		lua_Integer i;
		lua_Number n;
		uint64_t off; /* SB_STR: offset in strings; SB_TABLE: node index */
	} u;
};

struct sb_entry {
	struct sb_value key;
	struct sb_value value;
};

struct sb_node {
	uint32_t asize; /* array part: values [array, array + asize) are t[1..asize] */
	uint32_t array;
	uint32_t nhash; /* hash part: entries [hash, hash + nhash), lua_next order */
	uint32_t hash;
	uint32_t slots; /* index: slot[slots .. slots + mask] = entry number + 1, 0 = empty */
	uint32_t mask;
	uint32_t parent; /* the node holding this one (NO_PARENT: the root) */
	uint32_t pslot;  /* where in it: a value index, or an entry index | PSLOT_HASH */
};

#define NO_PARENT UINT32_MAX
#define PSLOT_HASH 0x80000000u

struct sharebox {
	atomic_int ref;
	uint32_t nnodes, nvalues, nentries, nslots;
	size_t strsize;
	struct sb_node *node;
	struct sb_value *value;
	struct sb_entry *entry;
	uint32_t *slot;
	char *str;
};

/* ---- building ------------------------------------------------------------- */

struct builder {
	lua_State *L;
	struct sb_node *node;
	size_t nnodes, capnodes;
	struct sb_value *value;
	size_t nvalues, capvalues;
	struct sb_entry *entry;
	size_t nentries, capentries;
	char *str;
	size_t strsize, capstr;
	int depth;
};

#define MAX_DEPTH 128

static void *grow(lua_State *L, void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *q = skynet_realloc(p, n * elem);
	if (q == NULL)
		luaL_error(L, "sharebox: out of memory");
	*cap = n;
	return q;
}

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)n; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static uint32_t hash_int(lua_Integer i)
{
	uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

static uint32_t hash_value(const struct sharebox *b, const struct sb_value *v)
{
	switch (v->type) {
	case SB_STR: return hash_bytes(b->str + v->u.off, v->len);
	case SB_INT: return hash_int(v->u.i);
	case SB_NUM: {
		uint64_t bits;
		memcpy(&bits, &v->u.n, sizeof bits);
		return hash_int((lua_Integer)bits);
	}
	default: return v->type;
	}
}

static uint32_t build_table(struct builder *b, int idx);

/* The value at stack index idx (a key if is_key). */
static void convert(struct builder *b, int idx, struct sb_value *out, int is_key)
{
	lua_State *L = b->L;
	memset(out, 0, sizeof *out);
	switch (lua_type(L, idx)) {
	case LUA_TNIL: out->type = SB_NIL; break;
	case LUA_TBOOLEAN: out->type = lua_toboolean(L, idx) ? SB_TRUE : SB_FALSE; break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			out->type = SB_INT;
			out->u.i = lua_tointeger(L, idx);
		} else {
			out->type = SB_NUM;
			out->u.n = lua_tonumber(L, idx);
		}
		break;
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		if (n > UINT32_MAX)
			luaL_error(L, "sharebox: string too long");
		b->str = grow(L, b->str, &b->capstr, b->strsize + n + 1, 1);
		memcpy(b->str + b->strsize, s, n);
		b->str[b->strsize + n] = '\0';
		out->type = SB_STR;
		out->len = (uint32_t)n;
		out->u.off = b->strsize;
		b->strsize += n + 1;
		break;
	}
	case LUA_TTABLE:
		if (is_key)
			luaL_error(L, "sharebox: a table as a key is not supported");
		out->type = SB_TABLE;
		out->u.off = build_table(b, idx);
		break;
	default:
		luaL_error(L, "sharebox: unsupported %s %s", is_key ? "key type" : "value type",
		           luaL_typename(L, idx));
	}
}

/* A table value v at slot `pslot` of node `parent`: its node remembers where
 * it hangs, so that an update finds the same path in the new box (repoint). */
static void link_child(struct builder *b, const struct sb_value *v, uint32_t parent, uint32_t pslot)
{
	if (v->type == SB_TABLE) {
		b->node[v->u.off].parent = parent;
		b->node[v->u.off].pslot = pslot;
	}
}

static uint32_t build_table(struct builder *b, int idx)
{
	lua_State *L = b->L;
	idx = lua_absindex(L, idx);
	if (++b->depth > MAX_DEPTH)
		luaL_error(L, "sharebox: tables nested deeper than %d (a cycle?)", MAX_DEPTH);
	luaL_checkstack(L, 6, "sharebox");
	uint32_t me = (uint32_t)b->nnodes;
	b->node = grow(L, b->node, &b->capnodes, b->nnodes + 1, sizeof *b->node);
	b->nnodes++;
	b->node[me].parent = NO_PARENT; /* the caller links a child (link_child) */
	b->node[me].pslot = 0;

	/* array part: t[1..n], n a border; reserve it first, fill it after (children append) */
	lua_Unsigned n = lua_rawlen(L, idx);
	if (n >= PSLOT_HASH - b->nvalues)
		luaL_error(L, "sharebox: array too long");
	size_t array = b->nvalues;
	b->value = grow(L, b->value, &b->capvalues, b->nvalues + n, sizeof *b->value);
	b->nvalues += n;
	for (lua_Unsigned i = 1; i <= n; i++) {
		struct sb_value v;
		lua_rawgeti(L, idx, (lua_Integer)i);
		convert(b, -1, &v, 0);
		lua_pop(L, 1);
		b->value[array + i - 1] = v;
		link_child(b, &v, me, (uint32_t)(array + i - 1));
	}
	/* hash part: every other key, in lua_next order */
	size_t first = b->nentries;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_isinteger(L, -2)) {
			lua_Integer k = lua_tointeger(L, -2);
			if (k >= 1 && (lua_Unsigned)k <= n) {
				lua_pop(L, 1);
				continue;
			}
		}
		struct sb_entry e;
		convert(b, -2, &e.key, 1);
		convert(b, -1, &e.value, 0);
		lua_pop(L, 1);
		if (b->nentries >= PSLOT_HASH - 1)
			luaL_error(L, "sharebox: too many keys");
		link_child(b, &e.value, me, (uint32_t)b->nentries | PSLOT_HASH);
		b->entry = grow(L, b->entry, &b->capentries, b->nentries + 1, sizeof *b->entry);
		b->entry[b->nentries++] = e;
	}
	struct sb_node *nd = &b->node[me];
	nd->asize = (uint32_t)n;
	nd->array = (uint32_t)array;
	nd->hash = (uint32_t)first;
	nd->nhash = (uint32_t)(b->nentries - first);
	b->depth--;
	return me;
}

static void builder_free(struct builder *b)
{
	skynet_free(b->node);
	skynet_free(b->value);
	skynet_free(b->entry);
	skynet_free(b->str);
}

static int value_eq(const struct sharebox *b, const struct sb_value *x, const struct sb_value *y)
{
	if (x->type != y->type)
		return 0;
	switch (x->type) {
	case SB_INT: return x->u.i == y->u.i;
	case SB_NUM: return x->u.n == y->u.n;
	case SB_STR: return x->len == y->len && memcmp(b->str + x->u.off, b->str + y->u.off, x->len) == 0;
	default: return 1;
	}
}

/* Freezes the builder into one box: indexes every hash part. */
static struct sharebox *freeze(lua_State *L, struct builder *bd)
{
	size_t nslots = 0;
	for (size_t i = 0; i < bd->nnodes; i++) {
		uint32_t size = 0;
		if (bd->node[i].nhash) {
			size = 4;
			while (size < bd->node[i].nhash * 2u)
				size *= 2;
		}
		bd->node[i].mask = size ? size - 1 : 0;
		bd->node[i].slots = (uint32_t)nslots;
		nslots += size;
	}
	size_t sz = sizeof(struct sharebox) + bd->nnodes * sizeof(struct sb_node) +
	            bd->nvalues * sizeof(struct sb_value) + bd->nentries * sizeof(struct sb_entry) +
	            nslots * sizeof(uint32_t) + bd->strsize + 16;
	struct sharebox *b = skynet_malloc(sz);
	if (b == NULL) {
		luaL_error(L, "sharebox: out of memory");
		return NULL; /* not reached: luaL_error does not return */
	}
	char *p = (char *)(b + 1);
	atomic_init(&b->ref, 1);
	b->nnodes = (uint32_t)bd->nnodes;
	b->nvalues = (uint32_t)bd->nvalues;
	b->nentries = (uint32_t)bd->nentries;
	b->nslots = (uint32_t)nslots;
	b->strsize = bd->strsize;
	b->node = (struct sb_node *)p;
	p += bd->nnodes * sizeof(struct sb_node);
	b->value = (struct sb_value *)p;
	p += bd->nvalues * sizeof(struct sb_value);
	b->entry = (struct sb_entry *)p;
	p += bd->nentries * sizeof(struct sb_entry);
	b->slot = (uint32_t *)p;
	p += nslots * sizeof(uint32_t);
	b->str = p;
	if (bd->nnodes)
		memcpy(b->node, bd->node, bd->nnodes * sizeof(struct sb_node));
	if (bd->nvalues)
		memcpy(b->value, bd->value, bd->nvalues * sizeof(struct sb_value));
	if (bd->nentries)
		memcpy(b->entry, bd->entry, bd->nentries * sizeof(struct sb_entry));
	memset(b->slot, 0, nslots * sizeof(uint32_t));
	if (bd->strsize)
		memcpy(b->str, bd->str, bd->strsize);
	for (uint32_t i = 0; i < b->nnodes; i++) {
		const struct sb_node *nd = &b->node[i];
		for (uint32_t e = 0; e < nd->nhash; e++) {
			uint32_t h = hash_value(b, &b->entry[nd->hash + e].key) & nd->mask;
			while (b->slot[nd->slots + h])
				h = (h + 1) & nd->mask;
			b->slot[nd->slots + h] = e + 1;
		}
	}
	return b;
}

static void box_release(struct sharebox *b)
{
	if (b && atomic_fetch_sub(&b->ref, 1) == 1)
		skynet_free(b);
}

/* ---- lookups ---------------------------------------------------------------- */

/* The entry number of key (a probe value) in node nd, or -1. */
static int64_t find_entry(const struct sharebox *b, const struct sb_node *nd, const struct sb_value *key,
                          const char *kstr)
{
	if (nd->nhash == 0)
		return -1;
	uint32_t h = (key->type == SB_STR ? hash_bytes(kstr, key->len) : hash_value(b, key)) & nd->mask;
	for (;;) {
		uint32_t e = b->slot[nd->slots + h];
		if (e == 0)
			return -1;
		const struct sb_value *k = &b->entry[nd->hash + e - 1].key;
		if (k->type == key->type) {
			if (key->type == SB_STR) {
				if (k->len == key->len && memcmp(b->str + k->u.off, kstr, key->len) == 0)
					return e - 1;
			} else if (value_eq(b, k, key)) {
				return e - 1;
			}
		}
		h = (h + 1) & nd->mask;
	}
}

/* The key at stack index idx as a probe; 0 if it can never be a key here. */
static int probe_key(lua_State *L, int idx, struct sb_value *k, const char **kstr)
{
	memset(k, 0, sizeof *k);
	*kstr = NULL;
	switch (lua_type(L, idx)) {
	case LUA_TSTRING: {
		size_t n;
		*kstr = lua_tolstring(L, idx, &n);
		k->type = SB_STR;
		k->len = (uint32_t)n;
		return n <= UINT32_MAX;
	}
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			k->type = SB_INT;
			k->u.i = lua_tointeger(L, idx);
		} else {
			lua_Number x = lua_tonumber(L, idx);
			lua_Integer i;
			if (lua_numbertointeger(x, &i) && (lua_Number)i == x) {
				k->type = SB_INT; /* t[1.0] is t[1] */
				k->u.i = i;
			} else {
				k->type = SB_NUM;
				k->u.n = x;
			}
		}
		return 1;
	case LUA_TBOOLEAN: k->type = lua_toboolean(L, idx) ? SB_TRUE : SB_FALSE; return 1;
	default: return 0;
	}
}

/* The value found for key in node, or NULL. */
static const struct sb_value *lookup(const struct sharebox *b, uint32_t node, lua_State *L, int kidx)
{
	const struct sb_node *nd = &b->node[node];
	struct sb_value k;
	const char *kstr;
	if (!probe_key(L, kidx, &k, &kstr))
		return NULL;
	if (k.type == SB_INT && k.u.i >= 1 && (lua_Unsigned)k.u.i <= nd->asize)
		return &b->value[nd->array + k.u.i - 1];
	int64_t e = find_entry(b, nd, &k, kstr);
	return e < 0 ? NULL : &b->entry[nd->hash + e].value;
}

/* ---- the box userdata and its proxies ---------------------------------------- */

#define BOX_MT "skynet.sharebox"

struct box_ud {
	struct sharebox *b;
};

static struct box_ud *check_box(lua_State *L, int idx)
{
	struct box_ud *u = luaL_checkudata(L, idx, BOX_MT);
	if (u->b == NULL)
		luaL_error(L, "sharebox: released");
	return u;
}

static int box_gc(lua_State *L)
{
	struct box_ud *u = luaL_checkudata(L, 1, BOX_MT);
	box_release(u->b);
	u->b = NULL;
	return 0;
}

/*
 * The box userdata's user values, per service:
 *   UV_CACHE  node -> proxy            (weak values: t.c == t.c while held)
 *   UV_NODE   proxy -> node            (weak keys; -1: removed by an update)
 *   UV_META   the metatable of every proxy of this box: [1] = the box userdata
 * A proxy's path (for repoint) is its node's, kept once in the box (parent,
 * pslot), so a proxy costs one empty table and two table entries.
 */
enum { UV_CACHE = 1, UV_NODE, UV_META, UV_COUNT = UV_META };

static int proxy_index(lua_State *L);
static int proxy_len(lua_State *L);
static int proxy_pairs(lua_State *L);
static int proxy_newindex(lua_State *L);

static void new_weak_table(lua_State *L, const char *mode)
{
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushstring(L, mode);
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
}

/* Pushes a box userdata adopting one reference of b. */
static void push_box(lua_State *L, struct sharebox *b)
{
	struct box_ud *u = lua_newuserdatauv(L, sizeof *u, UV_COUNT);
	u->b = b;
	luaL_setmetatable(L, BOX_MT);
	new_weak_table(L, "v");
	lua_setiuservalue(L, -2, UV_CACHE);
	new_weak_table(L, "k");
	lua_setiuservalue(L, -2, UV_NODE);
	lua_createtable(L, 1, 4);
	lua_pushvalue(L, -2);
	lua_rawseti(L, -2, 1);
	lua_pushcfunction(L, proxy_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, proxy_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, proxy_len);
	lua_setfield(L, -2, "__len");
	lua_pushcfunction(L, proxy_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_setiuservalue(L, -2, UV_META);
}

/* rawget(uservalue uv of the box at boxidx, key at keyidx), pushed. */
static int uv_get(lua_State *L, int boxidx, int uv, int keyidx)
{
	keyidx = lua_absindex(L, keyidx);
	lua_getiuservalue(L, boxidx, uv);
	lua_pushvalue(L, keyidx);
	int t = lua_rawget(L, -2);
	lua_remove(L, -2);
	return t;
}

/* uservalue uv of the box at boxidx [key at keyidx] = value at validx. */
static void uv_set(lua_State *L, int boxidx, int uv, int keyidx, int validx)
{
	keyidx = lua_absindex(L, keyidx);
	validx = lua_absindex(L, validx);
	lua_getiuservalue(L, boxidx, uv);
	lua_pushvalue(L, keyidx);
	lua_pushvalue(L, validx);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

/* The box and node of a proxy: pushes the box userdata, sets *node. */
static struct sharebox *proxy_target(lua_State *L, int proxy, int64_t *node)
{
	proxy = lua_absindex(L, proxy);
	if (!lua_getmetatable(L, proxy))
		luaL_error(L, "sharebox: not a proxy");
	lua_rawgeti(L, -1, 1);
	lua_remove(L, -2);
	struct box_ud *u = check_box(L, -1);
	int boxidx = lua_gettop(L);
	uv_get(L, boxidx, UV_NODE, proxy);
	*node = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
	lua_pop(L, 1);
	return u->b;
}

/* The node of a proxy that must still stand for a table. */
static uint32_t live_node(lua_State *L, int64_t node)
{
	if (node < 0)
		luaL_error(L, "sharebox: this table was removed by an update of the shared data");
	return (uint32_t)node;
}

/* Pushes the proxy of `node` of the box at boxidx. */
static void push_proxy(lua_State *L, int boxidx, uint32_t node)
{
	boxidx = lua_absindex(L, boxidx);
	luaL_checkstack(L, 8, "sharebox");
	lua_getiuservalue(L, boxidx, UV_CACHE);
	if (lua_rawgeti(L, -1, node) == LUA_TTABLE) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	lua_newtable(L); /* cache proxy */
	int p = lua_gettop(L);
	lua_getiuservalue(L, boxidx, UV_META);
	lua_setmetatable(L, p);
	lua_pushvalue(L, p);
	lua_rawseti(L, p - 1, node);
	lua_pushinteger(L, node);
	uv_set(L, boxidx, UV_NODE, p, -1);
	lua_pop(L, 1);
	lua_remove(L, p - 1);
}

/* Pushes v; a table becomes the proxy of its node (box at boxidx). */
static void push_value(lua_State *L, const struct sharebox *b, const struct sb_value *v, int boxidx)
{
	switch (v->type) {
	case SB_FALSE: lua_pushboolean(L, 0); break;
	case SB_TRUE: lua_pushboolean(L, 1); break;
	case SB_INT: lua_pushinteger(L, v->u.i); break;
	case SB_NUM: lua_pushnumber(L, v->u.n); break;
	case SB_STR: lua_pushlstring(L, b->str + v->u.off, v->len); break;
	case SB_TABLE: push_proxy(L, boxidx, (uint32_t)v->u.off); break;
	default: lua_pushnil(L); break;
	}
}

/* __index(proxy, key): the value, kept in the proxy for the next read. */
static int proxy_index(lua_State *L)
{
	int64_t node;
	struct sharebox *b = proxy_target(L, 1, &node); /* box ud at 3 */
	const struct sb_value *v = lookup(b, live_node(L, node), L, 2);
	if (v == NULL || v->type == SB_NIL)
		return 0;
	push_value(L, b, v, 3);
	lua_pushvalue(L, 2);
	lua_pushvalue(L, -2);
	lua_rawset(L, 1);
	return 1;
}

static int proxy_newindex(lua_State *L)
{
	return luaL_error(L, "sharebox: shared data is read-only (key %s)", luaL_tolstring(L, 2, NULL));
}

static int proxy_len(lua_State *L)
{
	int64_t node;
	struct sharebox *b = proxy_target(L, 1, &node);
	lua_pushinteger(L, (lua_Integer)b->node[live_node(L, node)].asize);
	return 1;
}

/* next(proxy, key): array part 1..asize (nils skipped), then the hash part in
 * the source table's order. */
static int proxy_next(lua_State *L)
{
	lua_settop(L, 2);
	int64_t node;
	struct sharebox *b = proxy_target(L, 1, &node); /* box ud at 3 */
	const struct sb_node *nd = &b->node[live_node(L, node)];
	uint64_t pos; /* position to look at: 0..asize-1 array, asize.. hash */
	if (lua_isnil(L, 2)) {
		pos = 0;
	} else {
		struct sb_value k;
		const char *kstr;
		if (!probe_key(L, 2, &k, &kstr))
			return luaL_error(L, "sharebox: invalid key to 'next'");
		if (k.type == SB_INT && k.u.i >= 1 && (lua_Unsigned)k.u.i <= nd->asize) {
			pos = (uint64_t)k.u.i;
		} else {
			int64_t e = find_entry(b, nd, &k, kstr);
			if (e < 0)
				return luaL_error(L, "sharebox: invalid key to 'next'");
			pos = nd->asize + (uint64_t)e + 1;
		}
	}
	for (; pos < nd->asize; pos++) {
		const struct sb_value *v = &b->value[nd->array + pos];
		if (v->type != SB_NIL) {
			lua_pushinteger(L, (lua_Integer)pos + 1);
			push_value(L, b, v, 3);
			return 2;
		}
	}
	uint64_t e = pos - nd->asize;
	if (e >= nd->nhash)
		return 0;
	const struct sb_entry *en = &b->entry[nd->hash + e];
	push_value(L, b, &en->key, 3);
	push_value(L, b, &en->value, 3);
	return 2;
}

static int proxy_pairs(lua_State *L)
{
	lua_pushcfunction(L, proxy_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* ---- the module ----------------------------------------------------------------- */

static int build_protected(lua_State *L)
{
	struct builder *bd = lua_touserdata(L, 1);
	build_table(bd, 2);
	struct sharebox *b = freeze(L, bd);
	lua_pushlightuserdata(L, b);
	return 1;
}

/* new(table) -> box (the table is copied into shared memory) */
static int l_new(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct builder bd;
	memset(&bd, 0, sizeof bd);
	bd.L = L;
	lua_pushcfunction(L, build_protected);
	lua_pushlightuserdata(L, &bd);
	lua_pushvalue(L, 1);
	int status = lua_pcall(L, 2, 1, 0);
	builder_free(&bd);
	if (status != LUA_OK)
		return lua_error(L);
	struct sharebox *b = lua_touserdata(L, -1);
	lua_pop(L, 1);
	push_box(L, b);
	return 1;
}

/* root(box) -> the proxy of the whole table */
static int l_root(lua_State *L)
{
	check_box(L, 1);
	push_proxy(L, 1, 0);
	return 1;
}

/* retain(box) -> handle: one more reference, for open() in another service */
static int l_retain(lua_State *L)
{
	struct box_ud *u = check_box(L, 1);
	atomic_fetch_add(&u->b->ref, 1);
	lua_pushinteger(L, (lua_Integer)(intptr_t)u->b);
	return 1;
}

/* open(handle) -> box, adopting the handle's reference */
static int l_open(lua_State *L)
{
	struct sharebox *b = (struct sharebox *)(intptr_t)luaL_checkinteger(L, 1);
	luaL_argcheck(L, b != NULL, 1, "null handle");
	push_box(L, b);
	return 1;
}

/* release(handle): drops a handle that will never be opened */
static int l_release_handle(lua_State *L)
{
	box_release((struct sharebox *)(intptr_t)luaL_checkinteger(L, 1));
	return 0;
}

/* Pushes the key under which `node` hangs in its parent (not the root). */
static void push_node_key(lua_State *L, const struct sharebox *b, uint32_t node)
{
	const struct sb_node *nd = &b->node[node];
	if (nd->pslot & PSLOT_HASH)
		push_value(L, b, &b->entry[nd->pslot & ~PSLOT_HASH].key, 0);
	else
		lua_pushinteger(L, (lua_Integer)(nd->pslot - b->node[nd->parent].array) + 1);
}

/* The node of newbox at the path of `node` of oldbox, or -1 when that path
 * holds no table there (memo table at index memo: old node -> new node). */
static int64_t new_node_of(lua_State *L, const struct sharebox *ob, const struct sharebox *nb, uint32_t node,
                           int memo)
{
	if (ob->node[node].parent == NO_PARENT)
		return 0; /* the root */
	luaL_checkstack(L, 4, "sharebox");
	if (lua_rawgeti(L, memo, node) == LUA_TNUMBER) {
		int64_t n = lua_tointeger(L, -1);
		lua_pop(L, 1);
		return n;
	}
	lua_pop(L, 1);
	int64_t parent = new_node_of(L, ob, nb, ob->node[node].parent, memo);
	int64_t found = -1;
	if (parent >= 0) {
		push_node_key(L, ob, node);
		const struct sb_value *v = lookup(nb, (uint32_t)parent, L, -1);
		lua_pop(L, 1);
		if (v != NULL && v->type == SB_TABLE)
			found = (int64_t)v->u.off;
	}
	lua_pushinteger(L, found);
	lua_rawseti(L, memo, node);
	return found;
}

/* repoint(oldbox, newbox): every live proxy of oldbox now shows the table at
 * its path in newbox; a proxy whose path holds no table any more raises when
 * read.  The cached fields are dropped. */
static int l_repoint(lua_State *L)
{
	struct box_ud *ou = check_box(L, 1);
	struct box_ud *nu = check_box(L, 2);
	lua_settop(L, 2);
	/* 3: the old box's proxies (collected first: the loop changes the tables) */
	lua_newtable(L);
	lua_Integer count = 0;
	lua_getiuservalue(L, 1, UV_NODE);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		lua_pushvalue(L, -1);
		lua_rawseti(L, 3, ++count);
	}
	lua_pop(L, 1);
	lua_getiuservalue(L, 2, UV_META); /* 4 */
	lua_newtable(L);                  /* 5: memo */
	for (lua_Integer i = 1; i <= count; i++) {
		lua_rawgeti(L, 3, i); /* 6: proxy */
		uv_get(L, 1, UV_NODE, 6);
		int64_t old = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
		lua_pop(L, 1);
		int64_t node = old < 0 ? -1 : new_node_of(L, ou->b, nu->b, (uint32_t)old, 5);
		lua_pushinteger(L, node);
		uv_set(L, 2, UV_NODE, 6, -1);
		lua_pop(L, 1);
		if (node >= 0) {
			lua_getiuservalue(L, 2, UV_CACHE);
			lua_pushvalue(L, 6);
			lua_rawseti(L, -2, node);
			lua_pop(L, 1);
		}
		lua_settop(L, 5);
	}
	for (lua_Integer i = 1; i <= count; i++) {
		lua_rawgeti(L, 3, i); /* 6: proxy */
		/* drop what it cached, then read through the new box */
		lua_pushnil(L);
		while (lua_next(L, 6)) {
			lua_pop(L, 1);
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, 6);
		}
		lua_pushvalue(L, 4);
		lua_setmetatable(L, 6);
		lua_settop(L, 5);
	}
	return 0;
}

/* copy(proxy or box) -> a plain Lua copy of the (sub)table */
static void copy_node(lua_State *L, const struct sharebox *b, uint32_t node, int depth)
{
	luaL_checkstack(L, 4, "sharebox");
	if (depth > MAX_DEPTH)
		luaL_error(L, "sharebox: too deep");
	const struct sb_node *nd = &b->node[node];
	lua_createtable(L, (int)nd->asize, (int)nd->nhash);
	for (uint32_t i = 0; i < nd->asize; i++) {
		const struct sb_value *v = &b->value[nd->array + i];
		if (v->type == SB_TABLE)
			copy_node(L, b, (uint32_t)v->u.off, depth + 1);
		else
			push_value(L, b, v, 0);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	for (uint32_t e = 0; e < nd->nhash; e++) {
		const struct sb_entry *en = &b->entry[nd->hash + e];
		push_value(L, b, &en->key, 0);
		if (en->value.type == SB_TABLE)
			copy_node(L, b, (uint32_t)en->value.u.off, depth + 1);
		else
			push_value(L, b, &en->value, 0);
		lua_rawset(L, -3);
	}
}

static int l_copy(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TUSERDATA) {
		struct box_ud *u = check_box(L, 1);
		copy_node(L, u->b, 0, 0);
		return 1;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	int64_t node;
	struct sharebox *b = proxy_target(L, 1, &node);
	copy_node(L, b, live_node(L, node), 0);
	return 1;
}

/* stat(box) -> bytes of shared memory, tables, references */
static int l_stat(lua_State *L)
{
	struct box_ud *u = check_box(L, 1);
	const struct sharebox *b = u->b;
	size_t bytes = sizeof *b + b->nnodes * sizeof(struct sb_node) + b->nvalues * sizeof(struct sb_value) +
	               b->nentries * sizeof(struct sb_entry) + b->nslots * sizeof(uint32_t) + b->strsize;
	lua_pushinteger(L, (lua_Integer)bytes);
	lua_pushinteger(L, b->nnodes);
	lua_pushinteger(L, atomic_load(&b->ref));
	return 3;
}

/* isproxy(v) -> true for a table that is a sharebox proxy */
static int l_isproxy(lua_State *L)
{
	int yes = 0;
	if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
		yes = lua_rawgeti(L, -1, 1) == LUA_TUSERDATA && luaL_testudata(L, -1, BOX_MT) != NULL;
	}
	/* (a proxy's metatable is its box's UV_META table: [1] is the box) */
	lua_pushboolean(L, yes);
	return 1;
}

int luaopen_skynet_sharebox(lua_State *L)
{
	luaL_checkversion(L);
	if (luaL_newmetatable(L, BOX_MT)) {
		lua_pushcfunction(L, box_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	static const luaL_Reg l[] = {
		{ "new", l_new },
		{ "root", l_root },
		{ "retain", l_retain },
		{ "open", l_open },
		{ "release", l_release_handle },
		{ "repoint", l_repoint },
		{ "copy", l_copy },
		{ "stat", l_stat },
		{ "isproxy", l_isproxy },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
