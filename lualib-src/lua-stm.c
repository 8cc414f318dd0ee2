/*
 * lua-stm.c — skynet.stm: one writer publishes a message (a skynet.pack
 * buffer), any number of readers in other services read its latest version.
 *
 *   local obj = stm.new(skynet.pack(...))   -- the writer; takes the buffer
 *   obj(skynet.pack(...))                   -- publishes a new version
 *   local copy = stm.copy(obj)              -- a reference to send to a reader
 *   local r = stm.newcopy(copy)             -- the reader (adopts that reference)
 *   r(skynet.unpack)                        -- true, f(ptr, size) if there is a version
 *                                              this reader has not read yet, else false
 *
 * When the writer goes (collected, or its service exits) the object keeps
 * no version: readers read false from then on, as in skynet, so a reader
 * can tell that nobody will publish again.
 *
 * An object holds its current version; a version (buffer + size) is freed
 * when nobody reads it any more.  A reader takes a reference to the current
 * version under the object's lock (held only to swap or take a pointer), so
 * the writer never waits for a reader's function and a reader never sees a
 * buffer being freed.  Each copy must be given to newcopy exactly once.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "preload.h"
#include "skynet_malloc.h"
#include "spinlock.h"

struct stm_version {
	atomic_int ref;
	void *msg;
	uint32_t sz;
};

struct stm_object {
	atomic_int ref;
	struct spinlock lock;
	struct stm_version *current; /* NULL once the writer is gone */
	uint64_t serial;             /* of current: 1 for the first, +1 per update (under lock) */
};

static struct stm_version *version_new(void *msg, uint32_t sz)
{
	struct stm_version *v = skynet_malloc(sizeof *v);
	atomic_init(&v->ref, 1);
	v->msg = msg;
	v->sz = sz;
	return v;
}

static void version_release(struct stm_version *v)
{
	if (v && atomic_fetch_sub(&v->ref, 1) == 1) {
		skynet_free(v->msg);
		skynet_free(v);
	}
}

static void object_release(struct stm_object *o)
{
	if (atomic_fetch_sub(&o->ref, 1) == 1) {
		version_release(o->current);
		spinlock_destroy(&o->lock);
		skynet_free(o);
	}
}

/* The message at (idx, idx+1): a lightuserdata + size we take over, or a
 * string we copy. */
static struct stm_version *take_message(lua_State *L, int idx)
{
	void *msg;
	size_t sz;
	if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
		msg = lua_touserdata(L, idx);
		lua_Integer n = luaL_checkinteger(L, idx + 1);
		luaL_argcheck(L, n >= 0 && n <= UINT32_MAX, idx + 1, "bad size");
		sz = (size_t)n;
	} else {
		const char *s = luaL_checklstring(L, idx, &sz);
		luaL_argcheck(L, sz <= UINT32_MAX, idx, "message too large");
		msg = skynet_malloc(sz ? sz : 1);
		memcpy(msg, s, sz);
	}
	return version_new(msg, (uint32_t)sz);
}

#define WRITER_MT "skynet.stm.writer"
#define READER_MT "skynet.stm.reader"

struct handle {
	struct stm_object *o;
	uint64_t seen; /* reader: serial of the last version it read (0: none yet) */
};

static struct stm_object *check(lua_State *L, int idx, const char *mt)
{
	struct handle *h = luaL_checkudata(L, idx, mt);
	if (h->o == NULL)
		luaL_error(L, "stm: object released");
	return h->o;
}

static int handle_gc(lua_State *L)
{
	struct handle *h = lua_touserdata(L, 1);
	if (h->o) {
		object_release(h->o);
		h->o = NULL;
	}
	return 0;
}

/* The writer's end: drop the current version so that readers see no more
 * data, then our reference to the object. */
static int writer_gc(lua_State *L)
{
	struct handle *h = lua_touserdata(L, 1);
	struct stm_object *o = h->o;
	if (o == NULL)
		return 0;
	spinlock_lock(&o->lock);
	struct stm_version *old = o->current;
	o->current = NULL;
	o->serial++;
	spinlock_unlock(&o->lock);
	version_release(old);
	object_release(o);
	h->o = NULL;
	return 0;
}

static void push_handle(lua_State *L, struct stm_object *o, const char *mt)
{
	struct handle *h = lua_newuserdatauv(L, sizeof *h, 0);
	h->o = o;
	h->seen = 0;
	luaL_setmetatable(L, mt);
}

/* new(msg, size | string) -> writer */
static int l_new(lua_State *L)
{
	struct stm_version *v = take_message(L, 1);
	struct stm_object *o = skynet_malloc(sizeof *o);
	atomic_init(&o->ref, 1);
	spinlock_init(&o->lock);
	o->current = v;
	o->serial = 1;
	push_handle(L, o, WRITER_MT);
	return 1;
}

/* writer(msg, size | string): publishes a new version */
static int l_update(lua_State *L)
{
	struct stm_object *o = check(L, 1, WRITER_MT);
	struct stm_version *v = take_message(L, 2);
	spinlock_lock(&o->lock);
	struct stm_version *old = o->current;
	o->current = v;
	o->serial++;
	spinlock_unlock(&o->lock);
	version_release(old);
	return 0;
}

/* copy(writer) -> a reference (lightuserdata) for newcopy in another service */
static int l_copy(lua_State *L)
{
	struct stm_object *o = check(L, 1, WRITER_MT);
	atomic_fetch_add(&o->ref, 1);
	lua_pushlightuserdata(L, o);
	return 1;
}

/* newcopy(reference) -> reader */
static int l_newcopy(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
	struct stm_object *o = lua_touserdata(L, 1);
	luaL_argcheck(L, o != NULL, 1, "null reference");
	push_handle(L, o, READER_MT);
	return 1;
}

/* reader(f, ...) -> true, f(msg, size, ...) on the latest version when this
 * reader has not read it yet; false when nothing changed since its last read
 * (skynet's contract: a reader decodes only what is new) or the writer is gone. */
static int l_read(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, READER_MT);
	struct stm_object *o = check(L, 1, READER_MT);
	luaL_checkany(L, 2);
	spinlock_lock(&o->lock);
	if (o->serial == h->seen || o->current == NULL) {
		h->seen = o->serial;
		spinlock_unlock(&o->lock);
		lua_pushboolean(L, 0);
		return 1;
	}
	struct stm_version *v = o->current;
	h->seen = o->serial;
	atomic_fetch_add(&v->ref, 1);
	spinlock_unlock(&o->lock);
	int extra = lua_gettop(L) - 2;
	lua_pushboolean(L, 1);
	lua_pushvalue(L, 2);
	lua_pushlightuserdata(L, v->msg);
	lua_pushinteger(L, v->sz);
	for (int i = 1; i <= extra; i++)
		lua_pushvalue(L, 2 + i);
	int base = lua_gettop(L) - extra - 3; /* the pushed true sits at base */
	int status = lua_pcall(L, 2 + extra, LUA_MULTRET, 0);
	version_release(v);
	if (status != LUA_OK)
		return lua_error(L);
	return lua_gettop(L) - base + 1;
}

int luaopen_skynet_stm(lua_State *L)
{
	luaL_checkversion(L);
	if (luaL_newmetatable(L, WRITER_MT)) {
		lua_pushcfunction(L, writer_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_update);
		lua_setfield(L, -2, "__call");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, READER_MT)) {
		lua_pushcfunction(L, handle_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, l_read);
		lua_setfield(L, -2, "__call");
	}
	lua_pop(L, 1);
	static const luaL_Reg l[] = {
		{ "new", l_new },
		{ "copy", l_copy },
		{ "newcopy", l_newcopy },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
