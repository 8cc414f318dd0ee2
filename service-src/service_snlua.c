/*
 * service_snlua.c — the Lua service host.
 *
 * One lua_State per service, created with a counting allocator. init() only
 * queues the launch arguments to the service itself, so the Lua start-up runs
 * on a worker thread as the service's first message and LAUNCH returns at
 * once; the Lua side reports success or failure to .launcher.
 *
 * Threads: create/init run on the launching thread; the allocator, launch_cb
 * and everything Lua run on whichever worker dispatches this service (one at a
 * time); signal runs on the thread that sent SIGNAL, and touches only atomics
 * (the memory counters and the trap).
 */
#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"
#include "skynet.h"

#define MEMORY_WARNING_REPORT ((size_t)32 * 1024 * 1024)

struct snlua {
	lua_State *L;
	struct skynet_context *ctx;
	size_t mem_report; /* next "Memory warning" threshold; doubles each time */
	size_t mem_limit;  /* 0 = none; set once, after the loader returns */
	struct skiff_memstat stat;
	struct skiff_trap trap;
};

/*
 * Lua allocator with accounting. Over the limit, growing requests fail (Lua
 * raises a memory error in the service) while shrinking and freeing succeed,
 * so a service over its limit can still release memory.
 */
static void *lalloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct snlua *l = ud;
	size_t old = ptr ? osize : 0; /* with ptr NULL, osize is a type tag */
	size_t mem = atomic_load_explicit(&l->stat.bytes, memory_order_relaxed) - old + nsize;
	if (nsize > old && l->mem_limit != 0 && mem > l->mem_limit)
		return NULL;
	void *p = skynet_lalloc(ptr, osize, nsize);
	if (p == NULL && nsize != 0)
		return NULL;
	atomic_store_explicit(&l->stat.bytes, mem, memory_order_relaxed);
	if (ptr == NULL || nsize == 0) {
		size_t blocks = atomic_load_explicit(&l->stat.blocks, memory_order_relaxed);
		blocks += ptr == NULL ? 1 : (size_t)-1;
		atomic_store_explicit(&l->stat.blocks, blocks, memory_order_relaxed);
	}
	if (mem > l->mem_report) {
		l->mem_report *= 2;
		skynet_error(l->ctx, "Memory warning %.2f M", (double)mem / (1024 * 1024));
	}
	return p;
}

static const char *optstring(struct skynet_context *ctx, const char *key, const char *def)
{
	const char *v = skynet_command(ctx, "GETENV", key);
	return v ? v : def;
}

static void report_launcher_error(struct skynet_context *ctx)
{
	/* copied by the runtime: "ERROR" is a literal */
	skynet_sendname(ctx, 0, ".launcher", PTYPE_TEXT, 0, "ERROR", 5);
}

/*
 * Everything that builds the service's Lua world, run under lua_pcall so a
 * memory error is reported instead of aborting the node.
 * Stack in: snlua lightuserdata, args lightuserdata, args size.
 * Returns nothing, or raises with the message already worded.
 */
static int init_lua(lua_State *L)
{
	struct snlua *l = lua_touserdata(L, 1);
	const char *args = lua_touserdata(L, 2);
	size_t sz = (size_t)lua_tointeger(L, 3);
	struct skynet_context *ctx = l->ctx;
	lua_settop(L, 0);

	lua_gc(L, LUA_GCSTOP);
	/* Generational mode, as skynet's snlua. Entering it runs a full mark of
	 * the heap, so it is entered now, while the heap is a bare state. */
	lua_gc(L, LUA_GCGEN, 0, 0);
	skiff_trap_init(&l->trap, L);
	lua_pushboolean(L, 1); /* the std libs ignore LUA_PATH & co from the OS environment */
	lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
	skiff_openlibs(L); /* luaL_openlibs and the preload table */

	/* coroutine.resume/wrap: timed, and keeping the signal trap on the running coroutine */
	luaL_requiref(L, "skynet.profile", luaopen_skynet_profile, 0);
	lua_getglobal(L, "coroutine");
	lua_getfield(L, -2, "resume");
	lua_setfield(L, -2, "resume");
	lua_getfield(L, -2, "wrap");
	lua_setfield(L, -2, "wrap");
	lua_settop(L, 0);

	lua_pushlightuserdata(L, ctx);
	lua_setfield(L, LUA_REGISTRYINDEX, "skynet_context");
	luaL_requiref(L, "skynet.codecache", luaopen_skynet_codecache, 0);
	lua_pop(L, 1);
	skiff_codecache_install(L);

	lua_pushstring(L, optstring(ctx, "lua_path", "./lualib/?.lua;./lualib/?/init.lua"));
	lua_setglobal(L, "LUA_PATH");
	lua_pushstring(L, optstring(ctx, "lua_cpath", "./luaclib/?.so"));
	lua_setglobal(L, "LUA_CPATH");
	lua_pushstring(L, optstring(ctx, "luaservice", "./service/?.lua"));
	lua_setglobal(L, "LUA_SERVICE");
	const char *preload = skynet_command(ctx, "GETENV", "preload");
	if (preload) {
		lua_pushstring(L, preload);
		lua_setglobal(L, "LUA_PRELOAD");
	}

	lua_pushcfunction(L, skiff_traceback);
	const char *loader = optstring(ctx, "lualoader", "./lualib/loader.lua");
	skiff_codecache_set_lib(loader);
	if (skiff_codecache_load(L, loader, NULL) != LUA_OK)
		return luaL_error(L, "Can't load %s : %s", loader, lua_tostring(L, -1));
	lua_pushlstring(L, args, sz);
	if (lua_pcall(L, 1, 0, 1) != LUA_OK)
		return luaL_error(L, "lua loader error : %s", lua_tostring(L, -1));
	lua_settop(L, 0);

	/* skynet.memlimit only counts during the main chunk (and preload): read it once, now */
	if (lua_getfield(L, LUA_REGISTRYINDEX, "memlimit") == LUA_TNUMBER) {
		lua_Integer limit = lua_tointeger(L, -1);
		if (limit > 0) {
			l->mem_limit = (size_t)limit;
			skynet_error(ctx, "Set memory limit to %.2f M", (double)limit / (1024 * 1024));
		}
		lua_pushnil(L);
		lua_setfield(L, LUA_REGISTRYINDEX, "memlimit");
	}
	lua_settop(L, 0);
	lua_gc(L, LUA_GCRESTART);
	return 0;
}

/* The first message: the launch arguments, sent by snlua_init to ourselves. */
static int launch_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                     const void *msg, size_t sz)
{
	(void)type;
	(void)session;
	(void)source;
	struct snlua *l = ud;
	lua_State *L = l->L;
	skynet_callback(ctx, NULL, NULL); /* the Lua side installs its own */
	lua_pushcfunction(L, init_lua);   /* light C function and light userdata: no allocation */
	lua_pushlightuserdata(L, l);
	lua_pushlightuserdata(L, (void *)msg);
	lua_pushinteger(L, (lua_Integer)sz);
	if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
		const char *err = lua_tostring(L, -1);
		skynet_error(ctx, "%s", err ? err : "snlua: init failed");
		lua_settop(L, 0);
		lua_gc(L, LUA_GCRESTART);
		report_launcher_error(ctx);
		skynet_command(ctx, "EXIT", NULL);
	}
	return 0;
}

struct snlua *snlua_create(void);
int snlua_init(struct snlua *l, struct skynet_context *ctx, const char *args);
void snlua_release(struct snlua *l);
void snlua_signal(struct snlua *l, int signal);

struct snlua *snlua_create(void)
{
	struct snlua *l = skynet_calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->mem_report = MEMORY_WARNING_REPORT;
	skiff_seed(); /* before the state: it interns the shared names */
	l->L = lua_newstate(lalloc, l);
	if (l->L == NULL) {
		skynet_free(l);
		return NULL;
	}
	return l;
}

int snlua_init(struct snlua *l, struct skynet_context *ctx, const char *args)
{
	if (args == NULL)
		args = "";
	size_t sz = strlen(args);
	char *copy = skynet_malloc(sz + 1);
	memcpy(copy, args, sz + 1);
	l->ctx = ctx;
	/* skynet.core's functions find the context here (every coroutine inherits it) */
	*(struct skynet_context **)lua_getextraspace(l->L) = ctx;
	const char *self = skynet_command(ctx, "REG", NULL);
	uint32_t handle = (uint32_t)strtoul(self + 1, NULL, 16);
	skiff_memstat_link(&l->stat, handle);
	skynet_callback(ctx, l, launch_cb);
	/* must be the first message in our queue: nothing is scheduled before init returns */
	skynet_send(ctx, 0, handle, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, 0, copy, sz);
	return 0;
}

void snlua_release(struct snlua *l)
{
	lua_close(l->L);
	skiff_memstat_unlink(&l->stat);
	skynet_free(l);
}

void snlua_signal(struct snlua *l, int signal)
{
	skynet_error(l->ctx, "recv a signal %d", signal);
	if (signal == 0) {
		skiff_trap_signal(&l->trap);
	} else if (signal == 1) {
		size_t bytes = atomic_load_explicit(&l->stat.bytes, memory_order_relaxed);
		skynet_error(l->ctx, "Current Memory %.3fK", (double)bytes / 1024);
	}
}
