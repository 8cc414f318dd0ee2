/*
 * preload.h — what the snlua service needs from lualib/: the built-in Lua C
 * modules, the code cache hooks, and the two pieces of per-service state that
 * snlua owns but lualib code touches (the signal trap and the memory counters).
 */
#ifndef SKIFF_PRELOAD_H
#define SKIFF_PRELOAD_H

#include <lua.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Put every Lua C module built into snlua into package.preload. */
void skiff_lualib_preload(lua_State *L);

/*
 * A service state's standard libraries and package.preload (seed.c): what
 * luaL_openlibs and skiff_lualib_preload make, but with Skiff's Lua
 * (LUA_SHARED_STRINGS) most tables are copies of templates built once per
 * process, and their names are strings shared by every state. Call
 * skiff_seed() before creating a service's state (it builds the process's
 * string table, which the new state's own names then come from).
 */
void skiff_seed(void);
void skiff_openlibs(lua_State *L);
/* skynet.core's function table as a template, made in the seed (lua-skynet.c). */
void skiff_core_template(lua_State *L);

int luaopen_skynet_core(lua_State *L); /* needs registry skynet_context */
int luaopen_skynet_profile(lua_State *L);
int luaopen_skynet_memory(lua_State *L);
int luaopen_skynet_codecache(lua_State *L);
int luaopen_skynet_metrics(lua_State *L);
int luaopen_skynet_sharebox(lua_State *L);
int luaopen_skynet_stm(lua_State *L);
int luaopen_skynet_secretfile(lua_State *L);
int luaopen_http_wscore(lua_State *L); /* lua-wscore.c */
int luaopen_ltls_c(lua_State *L);      /* lua-tls.c */
int luaopen_ltls_init_c(lua_State *L);
/* Message handler for lua_pcall: the error as a string plus a traceback. */
int skiff_traceback(lua_State *L); /* runtime counters (lua-metrics.c) */

/*
 * Route the global `loadfile` and package.searchers[2] (Lua files found on
 * package.path) through the process-wide code cache, so every service loading
 * the same file skips reading and compiling it. Needs package and base libs.
 */
void skiff_codecache_install(lua_State *L);
/* The runtime's Lua library is the folder of `loader` (the config's
 * lualoader): its files are cached without local variable names. First call wins. */
void skiff_codecache_set_lib(const char *loader);
/* loadfile through the cache: pushes the chunk and returns LUA_OK, or pushes
 * an error message and returns an error status, like luaL_loadfilex. */
int skiff_codecache_load(lua_State *L, const char *filename, const char *mode);

/*
 * SIGNAL 0 support: break whatever Lua code a service is running.
 * `active` is the coroutine now running in the service; skynet.profile's resume
 * and skynet.core's callback keep it current. skiff_trap_signal may be called
 * from any thread; it installs a count hook on `active` that raises "signal 0",
 * and every coroutine switch re-arms the hook until it has fired once.
 * state: 0 idle, 1 being armed, -1 armed.
 */
struct skiff_trap {
	_Atomic(lua_State *) active;
	atomic_int state;
};

/*
 * Make a zero-initialised trap findable from L (registry) and point it at L,
 * before any Lua code runs. A signal may already race with this: the state is
 * left alone.
 */
void skiff_trap_init(struct skiff_trap *trap, lua_State *L);
/* The trap registered in L's registry, or NULL outside snlua. */
struct skiff_trap *skiff_trap_get(lua_State *L);
/* The running coroutine changes to L (the thread that now runs Lua code). */
void skiff_trap_switch(struct skiff_trap *trap, lua_State *L);
void skiff_trap_signal(struct skiff_trap *trap);

/*
 * Memory accounting. Each snlua allocator counts its own bytes and blocks in a
 * skiff_memstat; only the thread running that service writes it (relaxed
 * atomics, so writes are plain stores and readers on other threads see
 * consistent words). skynet.memory sums the linked stats on demand, so the hot
 * allocation path touches no shared cache line.
 */
struct skiff_memstat {
	_Atomic size_t bytes;
	_Atomic size_t blocks;
	uint32_t handle;
	struct skiff_memstat *prev, *next; /* guarded by lua-memory.c's lock */
};

void skiff_memstat_link(struct skiff_memstat *m, uint32_t handle);
void skiff_memstat_unlink(struct skiff_memstat *m);

#endif
