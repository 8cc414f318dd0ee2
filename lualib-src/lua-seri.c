/*
 * lua-seri.c — the skynet.pack byte format.
 *
 * Grammar (every multi-byte field little-endian):
 *   stream  := value*
 *   value   := tag payload          tag = type | cookie << 3
 *   nil     0  cookie 0
 *   boolean 1  cookie 0 false, 1 true
 *   number  2  cookie 0 zero | 1 u8 | 2 u16 | 4 i32 | 6 i64 | 8 double
 *   pointer 3  sizeof(void *) raw bytes (meaningful in this process only)
 *   sstring 4  cookie = length 0..31, then the bytes
 *   lstring 5  cookie 2: u16 length | cookie 4: u32 length, then the bytes
 *   table   6  cookie = array size 0..30, or 31 and the size as a number
 *              value; then the array values, then key value pairs, then a
 *              nil value ending the hash part.
 * A value inside more than MAX_DEPTH tables is refused by the encoder, and a
 * table inside more than MAX_DEPTH tables by the decoder, so a hostile stream
 * cannot drive the decoder's recursion past MAX_DEPTH + 1 levels.
 */
#include "lua-seri.h"

#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "skynet_malloc.h"

#define TYPE_NIL 0
#define TYPE_BOOLEAN 1
#define TYPE_NUMBER 2
#define TYPE_USERDATA 3
#define TYPE_SHORT_STRING 4
#define TYPE_LONG_STRING 5
#define TYPE_TABLE 6

#define NUMBER_ZERO 0
#define NUMBER_BYTE 1
#define NUMBER_WORD 2
#define NUMBER_DWORD 4
#define NUMBER_QWORD 6
#define NUMBER_REAL 8

#define SHORT_STRING_MAX 31
#define TABLE_SIZE_FOLLOWS 31
#define MAX_DEPTH 32

#define TAG(type, cookie) ((uint8_t)((type) | (cookie) << 3))

/* Most messages fit here, so packing them costs no allocation but the result. */
#define WB_INLINE 512

/*
 * Write buffer. Invariant: p == inl until the first overflow, then p is a
 * skynet_realloc'd block of cap bytes that the pack call owns until it either
 * hands it out or frees it.
 *
 * Two passes. The fast one writes only into inl and runs unprotected: it
 * holds no allocation, so an error raised in it (a bad type, too deep) leaks
 * nothing. A message that outgrows inl, or a table with __pairs (whose
 * metamethod must run once only), sets redo: the fast pass stops writing
 * (what it wrote is garbage) and the message is packed again in the second,
 * protected pass, which may allocate. Most messages never need it, and skip
 * the cost of lua_pcall.
 */
struct wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int own_error; /* the error being raised is ours: the caller adds the position */
	int fast;      /* first pass: inl only, no pcall around it */
	int redo;      /* the first pass gave up: pack again in the second */
	int api;       /* a table has a metatable: walk through Lua's API (both passes) */
	uint8_t inl[WB_INLINE];
};

static void wb_init(struct wbuf *b, int fast)
{
	b->p = b->inl;
	b->len = 0;
	b->cap = sizeof(b->inl);
	b->own_error = 0;
	b->fast = fast;
	b->redo = 0;
}

/*
 * Raised inside pack_protected, whose level-1 caller is C; luaseri_pack adds
 * the Lua caller's position, as a luaL_error there would.
 */
static int pack_error(lua_State *L, struct wbuf *b, const char *msg, const char *arg)
{
	b->own_error = 1;
	if (b->fast)
		luaL_where(L, 1); /* we run right inside pack/packstring: level 1 is the Lua caller */
	if (arg)
		lua_pushfstring(L, msg, arg);
	else
		lua_pushstring(L, msg);
	if (b->fast)
		lua_concat(L, 2);
	return lua_error(L);
}

static void wb_release(struct wbuf *b)
{
	if (b->p != b->inl)
		skynet_free(b->p);
	b->p = b->inl;
}

/* wb_reserve when the buffer is full: give up the fast pass, or grow. Growing
 * happens only inside pack_protected: a Lua error here is caught and the
 * buffer freed. */
static uint8_t *wb_grow(lua_State *L, struct wbuf *b, size_t n)
{
	if (b->fast) {
		/* give up; later writes (at most 9 bytes, see wb_string) land in inl unread */
		b->redo = 1;
		b->len = 0;
	}
	if (b->cap - b->len < n) {
		if (n > SIZE_MAX / 2 - b->len)
			pack_error(L, b, "serialize buffer overflow", NULL);
		size_t cap = b->cap * 2;
		if (cap < b->len + n)
			cap = b->len + n;
		uint8_t *p;
		if (b->p == b->inl) {
			p = skynet_malloc(cap);
			if (p)
				memcpy(p, b->inl, b->len);
		} else {
			p = skynet_realloc(b->p, cap);
		}
		if (p == NULL)
			pack_error(L, b, "not enough memory to serialize", NULL);
		b->p = p;
		b->cap = cap;
	}
	uint8_t *w = b->p + b->len;
	b->len += n;
	return w;
}

/* n bytes at the end of the buffer to write; inline: one compare when they fit */
static inline uint8_t *wb_reserve(lua_State *L, struct wbuf *b, size_t n)
{
	if (__builtin_expect(b->cap - b->len < n, 0))
		return wb_grow(L, b, n);
	uint8_t *w = b->p + b->len;
	b->len += n;
	return w;
}

static void put_le(uint8_t *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w[i] = (uint8_t)(v >> (8 * i));
}

static void wb_tag(lua_State *L, struct wbuf *b, uint8_t tag)
{
	*wb_reserve(L, b, 1) = tag;
}

static void wb_integer(lua_State *L, struct wbuf *b, lua_Integer v)
{
	uint8_t *w;
	if (v == 0) {
		wb_tag(L, b, TAG(TYPE_NUMBER, NUMBER_ZERO));
	} else if (v != (int32_t)v) {
		w = wb_reserve(L, b, 9);
		w[0] = TAG(TYPE_NUMBER, NUMBER_QWORD);
		put_le(w + 1, (uint64_t)v, 8);
	} else if (v < 0) {
		w = wb_reserve(L, b, 5);
		w[0] = TAG(TYPE_NUMBER, NUMBER_DWORD);
		put_le(w + 1, (uint32_t)(int32_t)v, 4);
	} else if (v < 0x100) {
		w = wb_reserve(L, b, 2);
		w[0] = TAG(TYPE_NUMBER, NUMBER_BYTE);
		w[1] = (uint8_t)v;
	} else if (v < 0x10000) {
		w = wb_reserve(L, b, 3);
		w[0] = TAG(TYPE_NUMBER, NUMBER_WORD);
		put_le(w + 1, (uint64_t)v, 2);
	} else {
		w = wb_reserve(L, b, 5);
		w[0] = TAG(TYPE_NUMBER, NUMBER_DWORD);
		put_le(w + 1, (uint64_t)v, 4);
	}
}

static void wb_pointer(lua_State *L, struct wbuf *b, void *ptr)
{
	uint8_t *w = wb_reserve(L, b, 1 + sizeof(ptr));
	w[0] = TAG(TYPE_USERDATA, 0);
	memcpy(w + 1, &ptr, sizeof(ptr));
}

static void wb_real(lua_State *L, struct wbuf *b, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	uint8_t *w = wb_reserve(L, b, 9);
	w[0] = TAG(TYPE_NUMBER, NUMBER_REAL);
	put_le(w + 1, bits, 8);
}

static void wb_string(lua_State *L, struct wbuf *b, const char *s, size_t sz)
{
	uint8_t *w;
	if (b->fast && b->cap - b->len < 5 + sz) {
		b->redo = 1; /* don't copy a long string in a pass that gave up */
		b->len = 0;
		return;
	}
	if (sz <= SHORT_STRING_MAX) {
		w = wb_reserve(L, b, 1 + sz);
		w[0] = TAG(TYPE_SHORT_STRING, sz);
		w += 1;
	} else if (sz < 0x10000) {
		w = wb_reserve(L, b, 3 + sz);
		w[0] = TAG(TYPE_LONG_STRING, 2);
		put_le(w + 1, sz, 2);
		w += 3;
	} else {
		if (sz > UINT32_MAX)
			pack_error(L, b, "serialize can't pack too long string", NULL);
		w = wb_reserve(L, b, 5 + sz);
		w[0] = TAG(TYPE_LONG_STRING, 4);
		put_le(w + 1, sz, 4);
		w += 5;
	}
	memcpy(w, s, sz);
}

static void pack_value(lua_State *L, struct wbuf *b, int index, int depth);

/* A table with __pairs: no array part, every pair the metamethod yields. */
static void pack_table_metapairs(lua_State *L, struct wbuf *b, int index, int depth)
{
	wb_tag(L, b, TAG(TYPE_TABLE, 0));
	/* the __pairs field is on the stack top */
	lua_pushvalue(L, index);
	lua_call(L, 1, 3); /* iterator, state, control */
	for (;;) {
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		lua_pushvalue(L, -3);
		lua_call(L, 2, 2); /* key, value */
		if (lua_isnil(L, -2)) {
			lua_pop(L, 5);
			break;
		}
		int top = lua_gettop(L);
		pack_value(L, b, top - 1, depth);
		pack_value(L, b, top, depth);
		lua_pop(L, 1);
		lua_replace(L, -2); /* the key becomes the next control value */
	}
	wb_tag(L, b, TAG(TYPE_NIL, 0));
}

static void pack_table(lua_State *L, struct wbuf *b, int index, int depth)
{
	if (!lua_checkstack(L, LUA_MINSTACK))
		pack_error(L, b, "serialize: out of stack", NULL);
	if (luaL_getmetafield(L, index, "__pairs") != LUA_TNIL) {
		if (b->fast) {
			lua_pop(L, 1);
			b->redo = 1; /* the metamethod runs in the second pass only */
			return;
		}
		pack_table_metapairs(L, b, index, depth);
		return;
	}
	lua_Unsigned n = lua_rawlen(L, index);
	if (n >= TABLE_SIZE_FOLLOWS) {
		wb_tag(L, b, TAG(TYPE_TABLE, TABLE_SIZE_FOLLOWS));
		wb_integer(L, b, (lua_Integer)n);
	} else {
		wb_tag(L, b, TAG(TYPE_TABLE, n));
	}
	for (lua_Unsigned i = 1; i <= n && !b->redo; i++) {
		lua_rawgeti(L, index, (lua_Integer)i);
		pack_value(L, b, lua_gettop(L), depth);
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	while (lua_next(L, index) != 0) {
		if (lua_isinteger(L, -2)) {
			lua_Integer k = lua_tointeger(L, -2);
			if (k > 0 && (lua_Unsigned)k <= n) {
				lua_pop(L, 1);
				continue;
			}
		}
		int top = lua_gettop(L);
		pack_value(L, b, top - 1, depth);
		pack_value(L, b, top, depth);
		if (b->redo) {
			lua_pop(L, 2); /* stop the walk: the second pass starts over */
			return;
		}
		lua_pop(L, 1);
	}
	wb_tag(L, b, TAG(TYPE_NIL, 0));
}

/* index is absolute. depth = number of tables enclosing this value. */
static void pack_value(lua_State *L, struct wbuf *b, int index, int depth)
{
	if (depth > MAX_DEPTH)
		pack_error(L, b, "serialize can't pack too depth table", NULL);
	int type = lua_type(L, index);
	switch (type) {
	case LUA_TNIL: wb_tag(L, b, TAG(TYPE_NIL, 0)); break;
	case LUA_TBOOLEAN: wb_tag(L, b, TAG(TYPE_BOOLEAN, lua_toboolean(L, index) ? 1 : 0)); break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, index))
			wb_integer(L, b, lua_tointeger(L, index));
		else
			wb_real(L, b, (double)lua_tonumber(L, index));
		break;
	case LUA_TSTRING: {
		size_t sz;
		const char *s = lua_tolstring(L, index, &sz);
		wb_string(L, b, s, sz);
		break;
	}
	case LUA_TLIGHTUSERDATA: wb_pointer(L, b, lua_touserdata(L, index)); break;
	case LUA_TTABLE: pack_table(L, b, index, depth + 1); break;
	default: pack_error(L, b, "Unsupport type %s to serialize", lua_typename(L, type));
	}
}

#ifdef LUA_SHARED_PROTO
/*
 * The direct walk. With Skiff's own Lua (lua/, one pinned release whose
 * headers are built beside it) this file reads tables the way the VM does,
 * instead of one API call per key, value and type test: most of a message's
 * packing cost was that API traffic. It writes the same grammar; only the
 * array count of a table with holes may differ (it stops at the first nil,
 * which is a border as good as lua_rawlen's), and the rest goes as pairs.
 *
 * A table with a metatable may have a __pairs that must run, so the walk
 * gives up on meeting one (WALK_API) and the message is packed again through
 * the API, from the start. Built against Debian's plain Lua, only the API
 * walk exists. Nothing here allocates from Lua or runs Lua code, so the
 * tables cannot change under the walk.
 */
#include "lobject.h"
#include "lgc.h"
#include "lstate.h"
#include "ltable.h"

#define WALK_OK 0
#define WALK_API 1

static int walk_value(lua_State *L, struct wbuf *b, const TValue *v, int depth);

/* The size of t's array part: 'alimit' may be a hint below it (ltable.c's luaH_realasize) */
static unsigned walk_asize(const Table *t)
{
	unsigned a = t->alimit;
	if (isrealasize(t) || (a & (a - 1)) == 0)
		return a;
	a |= a >> 1;
	a |= a >> 2;
	a |= a >> 4;
	a |= a >> 8;
	a |= a >> 16;
	return a + 1;
}

/*
 * Invariant used: an integer key k with 1 <= k <= asize always lives in the
 * array part, so no node holds a key the array values already sent.
 */
static int walk_table(lua_State *L, struct wbuf *b, Table *t, int depth)
{
	if (t->metatable != NULL)
		return WALK_API;
	unsigned asize = walk_asize(t);
	unsigned n = 0;
	while (n < asize && !isempty(&t->array[n]))
		n++;
	if (n >= TABLE_SIZE_FOLLOWS) {
		wb_tag(L, b, TAG(TYPE_TABLE, TABLE_SIZE_FOLLOWS));
		wb_integer(L, b, (lua_Integer)n);
	} else {
		wb_tag(L, b, TAG(TYPE_TABLE, n));
	}
	for (unsigned i = 0; i < n && !b->redo; i++)
		if (walk_value(L, b, &t->array[i], depth) != WALK_OK)
			return WALK_API;
	for (unsigned i = n + 1; i < asize && !b->redo; i++) { /* array[n] is the nil */
		if (isempty(&t->array[i]))
			continue;
		wb_integer(L, b, (lua_Integer)i + 1);
		if (walk_value(L, b, &t->array[i], depth) != WALK_OK)
			return WALK_API;
	}
	const Node *end = gnode(t, sizenode(t));
	for (const Node *nd = gnode(t, 0); nd < end && !b->redo; nd++) {
		if (isempty(gval(nd)))
			continue;
		TValue k;
		getnodekey(L, &k, nd);
		if (walk_value(L, b, &k, depth) != WALK_OK || walk_value(L, b, gval(nd), depth) != WALK_OK)
			return WALK_API;
	}
	wb_tag(L, b, TAG(TYPE_NIL, 0));
	return WALK_OK;
}

/* pack_value's twin: the same checks, errors and bytes */
static int walk_value(lua_State *L, struct wbuf *b, const TValue *v, int depth)
{
	if (depth > MAX_DEPTH)
		pack_error(L, b, "serialize can't pack too depth table", NULL);
	if (ttisnil(v)) {
		wb_tag(L, b, TAG(TYPE_NIL, 0));
		return WALK_OK;
	}
	switch (ttypetag(v)) {
	case LUA_VFALSE: wb_tag(L, b, TAG(TYPE_BOOLEAN, 0)); break;
	case LUA_VTRUE: wb_tag(L, b, TAG(TYPE_BOOLEAN, 1)); break;
	case LUA_VNUMINT: wb_integer(L, b, ivalue(v)); break;
	case LUA_VNUMFLT: wb_real(L, b, (double)fltvalue(v)); break;
	case LUA_VSHRSTR: {
		const TString *ts = tsvalue(v);
		wb_string(L, b, getstr(ts), ts->shrlen);
		break;
	}
	case LUA_VLNGSTR: {
		const TString *ts = tsvalue(v);
		wb_string(L, b, getstr(ts), ts->u.lnglen);
		break;
	}
	case LUA_VLIGHTUSERDATA: wb_pointer(L, b, pvalue(v)); break;
	case LUA_VTABLE: return walk_table(L, b, hvalue(v), depth + 1);
	default: pack_error(L, b, "Unsupport type %s to serialize", lua_typename(L, ttype(v)));
	}
	return WALK_OK;
}
#endif

/* The values in stack slots 1..n of the running C function, into b. */
static void pack_args(lua_State *L, struct wbuf *b, int n)
{
#ifdef LUA_SHARED_PROTO
	if (!b->api) {
		int i;
		for (i = 1; i <= n && !b->redo; i++)
			if (walk_value(L, b, s2v(L->ci->func + i), 0) != WALK_OK)
				break;
		if (i > n || b->redo)
			return;
		b->api = 1; /* a metatable: the whole message again, through the API */
		b->len = 0;
	}
#endif
	for (int i = 1; i <= n && !b->redo; i++)
		pack_value(L, b, i, 0);
}

/*
 * Runs under lua_pcall so that any error (ours, a __pairs metamethod's, a
 * memory error) unwinds to the caller, which still owns the buffer and frees it.
 * Stack: values..., wbuf lightuserdata, want_string boolean.
 */
static int pack_protected(lua_State *L)
{
	int want_string = lua_toboolean(L, -1);
	struct wbuf *b = lua_touserdata(L, -2);
	lua_pop(L, 2);
	pack_args(L, b, lua_gettop(L));
	if (want_string) {
		lua_pushlstring(L, (const char *)b->p, b->len);
		return 1;
	}
	return 0;
}

static void pack_into(lua_State *L, struct wbuf *b, int want_string)
{
	int n = lua_gettop(L);
	lua_pushcfunction(L, pack_protected); /* a light C function: no allocation */
	lua_insert(L, 1);
	lua_pushlightuserdata(L, b);
	lua_pushboolean(L, want_string);
	if (lua_pcall(L, n + 2, want_string ? 1 : 0, 0) != LUA_OK) {
		wb_release(b);
		if (b->own_error && lua_type(L, -1) == LUA_TSTRING) {
			luaL_where(L, 1);
			lua_insert(L, -2);
			lua_concat(L, 2);
		}
		lua_error(L);
	}
}

/* The fast pass (see struct wbuf): true when the message is in b->inl. */
static int pack_fast(lua_State *L, struct wbuf *b)
{
	int n = lua_gettop(L);
	b->api = 0;
	wb_init(b, 1);
	pack_args(L, b, n);
	if (!b->redo)
		return 1;
	lua_settop(L, n);
	wb_init(b, 0);
	return 0;
}

int luaseri_pack(lua_State *L)
{
	struct wbuf b;
	if (!pack_fast(L, &b))
		pack_into(L, &b, 0);
	void *out;
	if (b.p == b.inl) {
		out = skynet_malloc(b.len ? b.len : 1);
		memcpy(out, b.inl, b.len);
	} else if (b.cap - b.len > b.len / 4) {
		/* don't let a queued message pin up to twice its size */
		out = skynet_realloc(b.p, b.len);
		if (out == NULL)
			out = b.p;
	} else {
		out = b.p;
	}
	lua_pushlightuserdata(L, out);
	lua_pushinteger(L, (lua_Integer)b.len);
	return 2;
}

int luaseri_packstring(lua_State *L)
{
	struct wbuf b;
	if (pack_fast(L, &b)) {
		lua_pushlstring(L, (const char *)b.inl, b.len);
		return 1;
	}
	pack_into(L, &b, 1);
	wb_release(&b);
	return 1;
}

/* ---- decoding ---------------------------------------------------------- */

struct rbuf {
	const uint8_t *p;
	size_t len; /* bytes left; p[0 .. len) is readable */
};

#define invalid_stream(L, rb) invalid_stream_line(L, rb, __LINE__)

static int invalid_stream_line(lua_State *L, const struct rbuf *rb, int line)
{
	return luaL_error(L, "Invalid serialize stream %d (line:%d)", (int)rb->len, line);
}

/* Returns NULL when fewer than n bytes are left; the cursor then stays put. */
static const uint8_t *rb_read(struct rbuf *rb, size_t n)
{
	if (rb->len < n)
		return NULL;
	const uint8_t *r = rb->p;
	rb->p += n;
	rb->len -= n;
	return r;
}

static uint64_t get_le(const uint8_t *r, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r[i] << (8 * i);
	return v;
}

static const uint8_t *rb_need(lua_State *L, struct rbuf *rb, size_t n)
{
	const uint8_t *r = rb_read(rb, n);
	if (r == NULL)
		invalid_stream(L, rb);
	return r;
}

/* Integer payload for a number cookie; REAL and unknown cookies are invalid here. */
static lua_Integer get_integer(lua_State *L, struct rbuf *rb, int cookie)
{
	switch (cookie) {
	case NUMBER_ZERO: return 0;
	case NUMBER_BYTE: return *rb_need(L, rb, 1);
	case NUMBER_WORD: return (lua_Integer)get_le(rb_need(L, rb, 2), 2);
	case NUMBER_DWORD: return (int32_t)(uint32_t)get_le(rb_need(L, rb, 4), 4);
	case NUMBER_QWORD: return (lua_Integer)get_le(rb_need(L, rb, 8), 8);
	default: invalid_stream(L, rb); return 0;
	}
}

static void unpack_value(lua_State *L, struct rbuf *rb, uint8_t tag, int depth);

static uint8_t next_tag(lua_State *L, struct rbuf *rb)
{
	return *rb_need(L, rb, 1);
}

/*
 * A table of at most STAGE_MAX array values and STAGE_MAX pairs (most
 * messages) is made at its final size: its values wait on the stack until the
 * end of the table is read, so setting them never rehashes. Each rehash of a
 * growing table reinserts every key (one table of 6 fields: 4 of them).
 */
#define STAGE_MAX 32

/* Reads one key; false at the nil that ends the hash part (popped). */
static int unpack_key(lua_State *L, struct rbuf *rb, int depth)
{
	unpack_value(L, rb, next_tag(L, rb), depth);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1) && isnan(lua_tonumber(L, -1)))
		invalid_stream(L, rb);
	return 1;
}

/* The table being filled is on the stack top: the rest of its pairs, one rawset each. */
static void unpack_pairs(lua_State *L, struct rbuf *rb, int depth)
{
	while (unpack_key(L, rb, depth)) {
		unpack_value(L, rb, next_tag(L, rb), depth);
		lua_rawset(L, -3);
	}
}

static void unpack_small_table(lua_State *L, struct rbuf *rb, int n, int depth)
{
	luaL_checkstack(L, n + 2 * STAGE_MAX + LUA_MINSTACK, NULL);
	int base = lua_gettop(L);
	for (int i = 0; i < n; i++)
		unpack_value(L, rb, next_tag(L, rb), depth);
	int pairs = 0, more = 1;
	while (pairs < STAGE_MAX && (more = unpack_key(L, rb, depth))) {
		unpack_value(L, rb, next_tag(L, rb), depth);
		pairs++;
	}
	lua_createtable(L, n, pairs);
	int t = lua_gettop(L);
	for (int i = 1; i <= n; i++) {
		lua_pushvalue(L, base + i);
		lua_rawseti(L, t, i);
	}
	for (int k = base + n + 1; k < t; k += 2) {
		lua_pushvalue(L, k);
		lua_pushvalue(L, k + 1);
		lua_rawset(L, t);
	}
	if (t != base + 1) { /* else nothing was staged: the table is in place */
		lua_replace(L, base + 1);
		lua_settop(L, base + 1);
	}
	if (more && pairs == STAGE_MAX)
		unpack_pairs(L, rb, depth);
}

static void unpack_table(lua_State *L, struct rbuf *rb, int cookie, int depth)
{
	lua_Integer n = cookie;
	if (cookie == TABLE_SIZE_FOLLOWS) {
		uint8_t tag = next_tag(L, rb);
		if ((tag & 7) != TYPE_NUMBER)
			invalid_stream(L, rb);
		n = get_integer(L, rb, tag >> 3);
	}
	/* every array value takes at least its tag byte: this bounds the allocation */
	if (n < 0 || (lua_Unsigned)n > rb->len)
		invalid_stream(L, rb);
	if (n <= STAGE_MAX) {
		unpack_small_table(L, rb, (int)n, depth);
		return;
	}
	luaL_checkstack(L, LUA_MINSTACK, NULL);
	lua_createtable(L, (int)n, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		unpack_value(L, rb, next_tag(L, rb), depth);
		lua_rawseti(L, -2, i);
	}
	unpack_pairs(L, rb, depth);
}

static void unpack_value(lua_State *L, struct rbuf *rb, uint8_t tag, int depth)
{
	int cookie = tag >> 3;
	switch (tag & 7) {
	case TYPE_NIL: lua_pushnil(L); break;
	case TYPE_BOOLEAN: lua_pushboolean(L, cookie); break;
	case TYPE_NUMBER:
		if (cookie == NUMBER_REAL) {
			uint64_t bits = get_le(rb_need(L, rb, 8), 8);
			double d;
			memcpy(&d, &bits, sizeof(d));
			lua_pushnumber(L, (lua_Number)d);
		} else {
			lua_pushinteger(L, get_integer(L, rb, cookie));
		}
		break;
	case TYPE_USERDATA: {
		void *ptr;
		memcpy(&ptr, rb_need(L, rb, sizeof(ptr)), sizeof(ptr));
		lua_pushlightuserdata(L, ptr);
		break;
	}
	case TYPE_SHORT_STRING: lua_pushlstring(L, (const char *)rb_need(L, rb, cookie), cookie); break;
	case TYPE_LONG_STRING: {
		size_t sz;
		if (cookie == 2)
			sz = get_le(rb_need(L, rb, 2), 2);
		else if (cookie == 4)
			sz = get_le(rb_need(L, rb, 4), 4);
		else {
			invalid_stream(L, rb);
			return;
		}
		lua_pushlstring(L, (const char *)rb_need(L, rb, sz), sz);
		break;
	}
	case TYPE_TABLE:
		/* pack_value never emits a table below MAX_DEPTH enclosing tables */
		if (depth > MAX_DEPTH)
			invalid_stream(L, rb);
		unpack_table(L, rb, cookie, depth + 1);
		break;
	default: invalid_stream(L, rb);
	}
}

int luaseri_unpack(lua_State *L)
{
	struct rbuf rb;
	if (lua_isnoneornil(L, 1))
		return 0;
	if (lua_type(L, 1) == LUA_TSTRING) {
		size_t sz;
		rb.p = (const uint8_t *)lua_tolstring(L, 1, &sz);
		rb.len = sz;
	} else {
		rb.p = lua_touserdata(L, 1);
		lua_Integer sz = luaL_checkinteger(L, 2);
		luaL_argcheck(L, sz >= 0, 2, "negative size");
		rb.len = (size_t)sz;
	}
	if (rb.len == 0)
		return 0;
	if (rb.p == NULL)
		return luaL_error(L, "deserialize null pointer");
	/* keep a string argument on the stack: rb.p points into it */
	lua_settop(L, 1);
	for (int i = 0;; i++) {
		if (i % 8 == 7)
			luaL_checkstack(L, LUA_MINSTACK, NULL);
		const uint8_t *t = rb_read(&rb, 1);
		if (t == NULL)
			break;
		unpack_value(L, &rb, *t, 0);
	}
	return lua_gettop(L) - 1;
}
