/*
 * lua-memory.c — skynet.memory without jemalloc.
 *
 * Skynet's version reads per-service C heap statistics from jemalloc. Skiff
 * uses the C library allocator, so what is measurable is the memory of every
 * Lua state: each snlua allocator keeps its byte and block counts in a
 * skiff_memstat (preload.h), and the stats of live services sit on one list.
 *
 *   total()     bytes held by all snlua Lua states
 *   block()     blocks held by all snlua Lua states
 *   current()   bytes of this service's Lua state
 *   info()      { [handle] = bytes } for every snlua service
 *   dump()      log one line per service and the total
 *   dumpinfo()  log the totals (jemalloc's allocator report does not exist here)
 *   jestat(), mallctl(), dumpheap(), profactive(): jemalloc-only; they return
 *               an empty table, 0, nothing and false.
 */
#include <lauxlib.h>
#include <pthread.h>

#include "preload.h"
#include "skynet.h"

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct skiff_memstat stats_head = { .prev = &stats_head, .next = &stats_head };

void skiff_memstat_link(struct skiff_memstat *m, uint32_t handle)
{
	m->handle = handle;
	pthread_mutex_lock(&stats_lock);
	m->prev = &stats_head;
	m->next = stats_head.next;
	stats_head.next->prev = m;
	stats_head.next = m;
	pthread_mutex_unlock(&stats_lock);
}

void skiff_memstat_unlink(struct skiff_memstat *m)
{
	pthread_mutex_lock(&stats_lock);
	if (m->next) {
		m->prev->next = m->next;
		m->next->prev = m->prev;
		m->prev = m->next = NULL;
	}
	pthread_mutex_unlock(&stats_lock);
}

static void sum_stats(size_t *bytes, size_t *blocks)
{
	size_t b = 0, n = 0;
	pthread_mutex_lock(&stats_lock);
	for (struct skiff_memstat *m = stats_head.next; m != &stats_head; m = m->next) {
		b += atomic_load_explicit(&m->bytes, memory_order_relaxed);
		n += atomic_load_explicit(&m->blocks, memory_order_relaxed);
	}
	pthread_mutex_unlock(&stats_lock);
	*bytes = b;
	*blocks = n;
}

static struct skynet_context *getctx(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, "skynet_context");
	struct skynet_context *ctx = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return ctx; /* NULL outside a service: skynet_error then logs as source 0 */
}

static int ltotal(lua_State *L)
{
	size_t bytes, blocks;
	sum_stats(&bytes, &blocks);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 1;
}

static int lblock(lua_State *L)
{
	size_t bytes, blocks;
	sum_stats(&bytes, &blocks);
	lua_pushinteger(L, (lua_Integer)blocks);
	return 1;
}

static int lcurrent(lua_State *L)
{
	lua_Integer kb = lua_gc(L, LUA_GCCOUNT, 0);
	lua_Integer rest = lua_gc(L, LUA_GCCOUNTB, 0);
	lua_pushinteger(L, kb * 1024 + rest);
	return 1;
}

/*
 * Snapshot under the lock into a C array first: building a Lua table may
 * raise a memory error, which must not happen while the lock is held.
 */
struct entry {
	uint32_t handle;
	size_t bytes;
};

static int snapshot(lua_State *L, struct entry **out)
{
	for (;;) {
		int n = 0;
		pthread_mutex_lock(&stats_lock);
		for (struct skiff_memstat *m = stats_head.next; m != &stats_head; m = m->next)
			n++;
		pthread_mutex_unlock(&stats_lock);
		struct entry *e = lua_newuserdatauv(L, sizeof(*e) * (size_t)(n + 1), 0);
		int i = 0;
		pthread_mutex_lock(&stats_lock);
		for (struct skiff_memstat *m = stats_head.next; m != &stats_head && i <= n; m = m->next) {
			e[i].handle = m->handle;
			e[i].bytes = atomic_load_explicit(&m->bytes, memory_order_relaxed);
			i++;
		}
		int more = i > n; /* a service started meanwhile: count again */
		pthread_mutex_unlock(&stats_lock);
		if (!more) {
			*out = e;
			return i;
		}
		lua_pop(L, 1);
	}
}

static int linfo(lua_State *L)
{
	struct entry *e;
	int n = snapshot(L, &e);
	lua_createtable(L, 0, n);
	for (int i = 0; i < n; i++) {
		lua_pushinteger(L, (lua_Integer)e[i].bytes);
		lua_rawseti(L, -2, (lua_Integer)e[i].handle);
	}
	return 1;
}

static int ldump(lua_State *L)
{
	struct skynet_context *ctx = getctx(L);
	struct entry *e;
	int n = snapshot(L, &e);
	size_t total = 0;
	skynet_error(ctx, "dump all service mem:");
	for (int i = 0; i < n; i++) {
		skynet_error(ctx, ":%08x: %zu KB", e[i].handle, e[i].bytes / 1024);
		total += e[i].bytes;
	}
	skynet_error(ctx, "+total: %zu KB", total / 1024);
	return 0;
}

static int ldumpinfo(lua_State *L)
{
	size_t bytes, blocks;
	sum_stats(&bytes, &blocks);
	skynet_error(getctx(L), "Lua memory of all services: %zu bytes in %zu blocks", bytes, blocks);
	return 0;
}

/* jemalloc statistics: none without jemalloc. */
static int ljestat(lua_State *L)
{
	lua_newtable(L);
	return 1;
}

/* jemalloc mallctl: nothing to read or set. */
static int lmallctl(lua_State *L)
{
	luaL_checkstring(L, 1);
	lua_pushinteger(L, 0);
	return 1;
}

/* jemalloc heap profile dump: not available. */
static int ldumpheap(lua_State *L)
{
	(void)L;
	return 0;
}

/* jemalloc heap profiling switch: always off. */
static int lprofactive(lua_State *L)
{
	lua_pushboolean(L, 0);
	return 1;
}

int luaopen_skynet_memory(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "total", ltotal },
		{ "block", lblock },
		{ "current", lcurrent },
		{ "info", linfo },
		{ "dump", ldump },
		{ "dumpinfo", ldumpinfo },
		{ "jestat", ljestat },
		{ "mallctl", lmallctl },
		{ "dumpheap", ldumpheap },
		{ "profactive", lprofactive },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
