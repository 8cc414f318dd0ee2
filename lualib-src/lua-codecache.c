/*
 * lua-codecache.c — skynet.codecache: compile each Lua file once per process.
 *
 * Two ways to share, chosen by the Lua the build links (meson option `lua`):
 *
 * - Skiff's Lua (lua/skiff-shared-proto.patch, LUA_SHARED_PROTO): the first
 *   service that loads a file compiles it in a private loader lua_State of
 *   its own, runs a full collection there, stops that collector and marks
 *   the function's prototype tree shared (lua_sharefunction). Every load of
 *   that path in any service, the first included, is lua_clonefunction: a
 *   closure with fresh upvalues over the one read-only prototype tree. A
 *   service pays a closure per loaded file instead of a copy of its code,
 *   constants and debug information, which keep all their names.
 * - Debian's plain Lua: the first service compiles the file and stores its
 *   bytecode (lua_dump, debug info kept); every later load is lua_load of
 *   those bytes in binary mode. Files of the runtime's own Lua library (the
 *   folder of the config's `lualoader`, given once by snlua) are stored
 *   without the names of their local variables (dump_locals.h): line
 *   numbers and upvalue names stay, so tracebacks and debug.getupvalue are
 *   unchanged; debug.getlocal and error messages inside those files show no
 *   local names. The service that compiled a file keeps its names.
 *
 * Either way: no file system access and no parsing after the first load.
 *
 *   loadfile(filename [, mode [, env]])  the global loadfile, through the cache
 *   mode([m])   "ON" (default), "EXIST" (use entries, add none), "OFF"; per
 *               service. Returns the previous (or current) mode.
 *   clear()     forget every entry (changed files are read again)
 *   shared      true when prototypes are shared (Skiff's Lua), false for
 *               shared bytecode
 *
 * The cache is keyed by the path as given. With shared bytecode, entries are
 * immutable and reference-counted: a reader takes a reference under the lock
 * and runs lua_load without it, so clear() never frees bytes being loaded.
 * With shared prototypes an entry is never freed: clear() unlists it, but
 * services may run clones of its code for as long as the process lives, so
 * its loader state (and the memory of that code) stays until exit.
 * With skynet.codecache.mode "OFF" a service loads every file from source.
 */
#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_locals.h"
#include "preload.h"
#include "skynet_malloc.h"

#define CACHE_OFF 0
#define CACHE_EXIST 1
#define CACHE_ON 2

static const char *const mode_names[] = { "OFF", "EXIST", "ON", NULL };

#ifdef LUA_SHARED_PROTO
/* Listed or retired, never freed while the process runs (see above). */
struct chunk {
	struct chunk *next; /* bucket chain or retired list; guarded by cache.lock */
	int binary;         /* the file itself was precompiled */
	lua_State *loader;  /* owns the shared prototypes; its collector is stopped */
	const void *proto;  /* lua_sharefunction's handle of the main function */
	char path[];
};
#else
struct chunk {
	struct chunk *next; /* bucket chain; guarded by cache.lock */
	atomic_int ref;     /* one for the table while listed, one per reader */
	int binary;         /* the file itself was precompiled */
	size_t sz;
	char *code;
	char path[];
};
#endif

static struct {
	pthread_mutex_t lock;
	struct chunk **bucket;
	size_t nbucket; /* power of two, or 0 before the first insert */
	size_t count;
	char *lib; /* folder whose files lose their local names; set once, never freed */
	size_t liblen;
#ifdef LUA_SHARED_PROTO
	struct chunk *retired; /* cleared entries: clones of their code may still run */
#endif
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

void skiff_codecache_set_lib(const char *loader)
{
	const char *slash = strrchr(loader, '/');
	if (slash == NULL)
		return;
	size_t n = (size_t)(slash - loader) + 1;
	pthread_mutex_lock(&cache.lock);
	if (cache.lib == NULL) {
		char *lib = skynet_malloc(n + 1);
		if (lib) {
			memcpy(lib, loader, n);
			lib[n] = '\0';
			cache.lib = lib;
			cache.liblen = n;
		}
	}
	pthread_mutex_unlock(&cache.lock);
}

#ifndef LUA_SHARED_PROTO
static int in_lib(const char *path)
{
	pthread_mutex_lock(&cache.lock);
	int in = cache.lib != NULL && strncmp(path, cache.lib, cache.liblen) == 0;
	pthread_mutex_unlock(&cache.lock);
	return in;
}
#endif

static uint64_t hash_path(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

#ifdef LUA_SHARED_PROTO
static struct chunk *chunk_new(const char *path)
{
	size_t plen = strlen(path);
	struct chunk *c = skynet_malloc(sizeof(*c) + plen + 1);
	if (c)
		memcpy(c->path, path, plen + 1);
	return c;
}

static void chunk_acquire(struct chunk *c)
{
	(void)c; /* entries are never freed */
}

static void chunk_release(struct chunk *c)
{
	(void)c;
}

/* Only for an entry that was never listed, so no clone of its code exists. */
static void chunk_free(struct chunk *c)
{
	lua_close(c->loader);
	skynet_free(c);
}
#else
static struct chunk *chunk_new(const char *path)
{
	size_t plen = strlen(path);
	struct chunk *c = skynet_malloc(sizeof(*c) + plen + 1);
	if (c) {
		atomic_init(&c->ref, 1);
		memcpy(c->path, path, plen + 1);
	}
	return c;
}

static void chunk_acquire(struct chunk *c)
{
	atomic_fetch_add(&c->ref, 1);
}

static void chunk_release(struct chunk *c)
{
	if (atomic_fetch_sub(&c->ref, 1) == 1) {
		skynet_free(c->code);
		skynet_free(c);
	}
}

static void chunk_free(struct chunk *c)
{
	chunk_release(c);
}
#endif

/* Returns the entry with a reference taken, or NULL. */
static struct chunk *cache_find(const char *path)
{
	struct chunk *found = NULL;
	uint64_t h = hash_path(path);
	pthread_mutex_lock(&cache.lock);
	if (cache.nbucket) {
		for (struct chunk *c = cache.bucket[h & (cache.nbucket - 1)]; c; c = c->next) {
			if (strcmp(c->path, path) == 0) {
				chunk_acquire(c);
				found = c;
				break;
			}
		}
	}
	pthread_mutex_unlock(&cache.lock);
	return found;
}

static void cache_grow(void)
{
	size_t n = cache.nbucket ? cache.nbucket * 2 : 64;
	struct chunk **b = skynet_calloc(n, sizeof(*b));
	if (b == NULL)
		return; /* keep the longer chains */
	for (size_t i = 0; i < cache.nbucket; i++) {
		struct chunk *c = cache.bucket[i];
		while (c) {
			struct chunk *next = c->next;
			size_t slot = hash_path(c->path) & (n - 1);
			c->next = b[slot];
			b[slot] = c;
			c = next;
		}
	}
	skynet_free(cache.bucket);
	cache.bucket = b;
	cache.nbucket = n;
}

/*
 * Lists c (a new entry, filled in) and returns it, or, when another service
 * listed the path first, frees c and returns theirs; either way with a
 * reference taken for the caller. Returns NULL (c freed) without memory.
 */
static struct chunk *cache_insert(struct chunk *c)
{
	uint64_t h = hash_path(c->path);
	pthread_mutex_lock(&cache.lock);
	if (cache.count >= cache.nbucket)
		cache_grow();
	if (cache.nbucket == 0) {
		pthread_mutex_unlock(&cache.lock);
		chunk_free(c);
		return NULL;
	}
	struct chunk **slot = &cache.bucket[h & (cache.nbucket - 1)];
	for (struct chunk *o = *slot; o; o = o->next) {
		if (strcmp(o->path, c->path) == 0) {
			chunk_acquire(o);
			pthread_mutex_unlock(&cache.lock);
			chunk_free(c);
			return o;
		}
	}
	c->next = *slot;
	*slot = c;
	cache.count++;
	chunk_acquire(c);
	pthread_mutex_unlock(&cache.lock);
	return c;
}

static void cache_clear(void)
{
	struct chunk *all = NULL;
	pthread_mutex_lock(&cache.lock);
	for (size_t i = 0; i < cache.nbucket; i++) {
		struct chunk *c = cache.bucket[i];
		while (c) {
			struct chunk *next = c->next;
			c->next = all;
			all = c;
			c = next;
		}
		cache.bucket[i] = NULL;
	}
	cache.count = 0;
#ifdef LUA_SHARED_PROTO
	while (all) { /* keep them: clones of their code may still run */
		struct chunk *next = all->next;
		all->next = cache.retired;
		cache.retired = all;
		all = next;
	}
	pthread_mutex_unlock(&cache.lock);
#else
	pthread_mutex_unlock(&cache.lock);
	while (all) {
		struct chunk *next = all->next;
		chunk_release(all);
		all = next;
	}
#endif
}

/* ---- loading ----------------------------------------------------------- */

/* Whether the file starts (after an optional '#' line) with Lua's binary signature. */
static int file_is_binary(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	int c = getc(f);
	if (c == '#') {
		while ((c = getc(f)) != EOF && c != '\n')
			;
		c = getc(f);
	}
	fclose(f);
	return c == LUA_SIGNATURE[0];
}

static int mode_allows(const char *mode, int binary)
{
	if (mode == NULL)
		return 1;
	return strchr(mode, binary ? 'b' : 't') != NULL;
}

static const char MODE_KEY = 0;

static int get_mode(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &MODE_KEY);
	int m = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : CACHE_ON;
	lua_pop(L, 1);
	return m;
}

#ifdef LUA_SHARED_PROTO
/*
 * Compiles filename in a new loader state and lists it. Returns the listed
 * entry (ours, or an earlier one for the same path), or NULL when the file
 * does not load there or memory runs out; the caller then loads it in its own
 * state, which words the error as luaL_loadfilex does.
 */
static struct chunk *compile_shared(const char *filename, const char *mode)
{
	struct chunk *c = chunk_new(filename);
	if (c == NULL)
		return NULL;
	c->loader = luaL_newstate();
	if (c->loader == NULL) {
		skynet_free(c);
		return NULL;
	}
	if (luaL_loadfilex(c->loader, filename, mode) != LUA_OK) {
		chunk_free(c);
		return NULL;
	}
	/* Free the parser's garbage, then freeze: nothing runs in the loader again. */
	lua_gc(c->loader, LUA_GCCOLLECT);
	lua_gc(c->loader, LUA_GCSTOP);
	c->proto = lua_sharefunction(c->loader, -1);
	c->binary = file_is_binary(filename);
	return cache_insert(c);
}

int skiff_codecache_load(lua_State *L, const char *filename, const char *mode)
{
	int cmode = get_mode(L);
	if (cmode == CACHE_OFF)
		return luaL_loadfilex(L, filename, mode);
	struct chunk *c = cache_find(filename);
	if (c && !mode_allows(mode, c->binary))
		return luaL_loadfilex(L, filename, mode); /* let Lua word the refusal */
	if (c == NULL && cmode == CACHE_ON) {
		/* A missing file is the common miss: the loader tries each template of
		 * LUA_SERVICE in turn. Say so as luaL_loadfilex does, without making a
		 * loader state or opening the file a second time. */
		FILE *f = fopen(filename, "r");
		if (f == NULL) {
			lua_pushfstring(L, "cannot open %s: %s", filename, strerror(errno));
			return LUA_ERRFILE;
		}
		fclose(f);
		c = compile_shared(filename, mode);
	}
	if (c == NULL)
		return luaL_loadfilex(L, filename, mode);
	lua_clonefunction(L, c->proto);
	chunk_release(c);
	return LUA_OK;
}
#else
struct membuf {
	char *p;
	size_t len, cap;
	int failed;
};

static int dump_writer(lua_State *L, const void *data, size_t sz, void *ud)
{
	(void)L;
	struct membuf *b = ud;
	if (b->cap - b->len < sz) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->len < sz)
			cap *= 2;
		char *p = skynet_realloc(b->p, cap);
		if (p == NULL) {
			b->failed = 1;
			return 1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, sz);
	b->len += sz;
	return 0;
}

struct reader {
	const char *p;
	size_t left;
};

static const char *bytes_reader(lua_State *L, void *ud, size_t *sz)
{
	(void)L;
	struct reader *r = ud;
	*sz = r->left;
	r->left = 0;
	return *sz ? r->p : NULL;
}

int skiff_codecache_load(lua_State *L, const char *filename, const char *mode)
{
	int cmode = get_mode(L);
	if (cmode == CACHE_OFF)
		return luaL_loadfilex(L, filename, mode);
	struct chunk *c = cache_find(filename);
	if (c) {
		if (!mode_allows(mode, c->binary)) {
			chunk_release(c);
			return luaL_loadfilex(L, filename, mode); /* let Lua word the refusal */
		}
		struct reader r = { c->code, c->sz };
		int status = lua_load(L, bytes_reader, &r, filename, "b");
		chunk_release(c);
		return status;
	}
	int status = luaL_loadfilex(L, filename, mode);
	if (status != LUA_OK || cmode != CACHE_ON)
		return status;
	struct membuf b = { NULL, 0, 0, 0 };
	if (lua_dump(L, dump_writer, &b, 0) != 0 || b.failed || b.len == 0) {
		skynet_free(b.p);
		return LUA_OK;
	}
	if (in_lib(filename)) {
		size_t n = skiff_dump_drop_locals(b.p, b.len);
		if (n == 0) { /* not a layout we know (a foreign binary chunk): cache it as it is */
			b.len = 0;
			if (lua_dump(L, dump_writer, &b, 0) != 0 || b.failed || b.len == 0) {
				skynet_free(b.p);
				return LUA_OK;
			}
		} else {
			b.len = n;
		}
	}
	struct chunk *c2 = chunk_new(filename);
	if (c2 == NULL) {
		skynet_free(b.p);
		return LUA_OK;
	}
	c2->binary = file_is_binary(filename);
	c2->sz = b.len;
	c2->code = b.p;
	if ((c2 = cache_insert(c2)) != NULL)
		chunk_release(c2);
	return LUA_OK;
}
#endif

/* ---- Lua API ----------------------------------------------------------- */

/* loadfile([filename [, mode [, env]]]), as the base library's. */
static int lloadfile(lua_State *L)
{
	const char *fname = luaL_optstring(L, 1, NULL);
	const char *mode = luaL_optstring(L, 2, NULL);
	int env = !lua_isnone(L, 3) ? 3 : 0;
	int status = fname ? skiff_codecache_load(L, fname, mode) : luaL_loadfilex(L, NULL, mode);
	if (status != LUA_OK) {
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	if (env) {
		lua_pushvalue(L, env);
		if (!lua_setupvalue(L, -2, 1))
			lua_pop(L, 1);
	}
	return 1;
}

static int lmode(lua_State *L)
{
	int old = get_mode(L);
	lua_pushstring(L, mode_names[old]);
	if (!lua_isnoneornil(L, 1)) {
		int m = luaL_checkoption(L, 1, NULL, mode_names);
		lua_pushinteger(L, m);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &MODE_KEY);
	}
	return 1;
}

static int lclear(lua_State *L)
{
	(void)L;
	cache_clear();
	return 0;
}

/*
 * package.searchers[2] through the cache: upvalue 1 is the package table.
 * Same contract as Lua's own Lua-file searcher.
 */
static int searcher_lua(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	lua_getfield(L, lua_upvalueindex(1), "searchpath");
	lua_pushvalue(L, 1);
	if (lua_getfield(L, lua_upvalueindex(1), "path") != LUA_TSTRING)
		return luaL_error(L, "'package.path' must be a string");
	lua_call(L, 2, 2);
	if (lua_isnil(L, -2))
		return 1; /* the "no file ..." message */
	lua_pop(L, 1);
	const char *filename = lua_tostring(L, -1);
	if (skiff_codecache_load(L, filename, NULL) != LUA_OK)
		return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, filename,
		                  lua_tostring(L, -1));
	lua_insert(L, -2); /* loader, filename */
	return 2;
}

void skiff_codecache_install(lua_State *L)
{
	lua_pushcfunction(L, lloadfile);
	lua_setglobal(L, "loadfile");
	if (lua_getglobal(L, "package") == LUA_TTABLE) {
		if (lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
			lua_pushvalue(L, -2);
			lua_pushcclosure(L, searcher_lua, 1);
			lua_rawseti(L, -2, 2);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

int luaopen_skynet_codecache(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "clear", lclear },
		{ "mode", lmode },
		{ "loadfile", lloadfile },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
#ifdef LUA_SHARED_PROTO
	lua_pushboolean(L, 1);
#else
	lua_pushboolean(L, 0);
#endif
	lua_setfield(L, -2, "shared");
	return 1;
}
