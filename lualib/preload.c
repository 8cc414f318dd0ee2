/*
 * preload.c — register the Lua C modules linked into snlua in package.preload,
 * so `require "skynet.core"` and friends never touch the file system. Each
 * module is guarded by the SKIFF_HAVE_<FILE> macro lualib/meson.build defines
 * for the sources that exist.
 */
#include "preload.h"

#include <lauxlib.h>

#if defined(SKIFF_HAVE_LUA_SOCKET_C) || defined(SKIFF_HAVE_LUA_NETPACK_C)
#include "lua-socket.h"
#endif
#ifdef SKIFF_HAVE_LUA_MULTICAST_C
#include "lua-multicast.h"
#endif
#ifdef SKIFF_HAVE_LUA_CLUSTER_C
#include "lua-cluster.h"
#endif
#ifdef SKIFF_HAVE_LUA_HARBOR_C
#include "lua-harbor.h"
#endif
#ifdef SKIFF_HAVE_LUA_DEBUGCHANNEL_C
#include "lua-debugchannel.h"
#endif

void
skiff_lualib_preload(lua_State *L) {
	static const luaL_Reg modules[] = {
#ifdef SKIFF_HAVE_LUA_SKYNET_C
		{ "skynet.core", luaopen_skynet_core },
#endif
#ifdef SKIFF_HAVE_LUA_PROFILE_C
		{ "skynet.profile", luaopen_skynet_profile },
#endif
#ifdef SKIFF_HAVE_LUA_MEMORY_C
		{ "skynet.memory", luaopen_skynet_memory },
#endif
#ifdef SKIFF_HAVE_LUA_CODECACHE_C
		{ "skynet.codecache", luaopen_skynet_codecache },
#endif
#ifdef SKIFF_HAVE_LUA_SOCKET_C
		{ "skynet.socketdriver", luaopen_skynet_socketdriver },
#endif
#ifdef SKIFF_HAVE_LUA_NETPACK_C
		{ "skynet.netpack", luaopen_skynet_netpack },
#endif
#ifdef SKIFF_HAVE_LUA_MULTICAST_C
		{ "skynet.multicast.core", luaopen_skynet_multicast_core },
#endif
#ifdef SKIFF_HAVE_LUA_CLUSTER_C
		{ "skynet.cluster.core", luaopen_skynet_cluster_core },
#endif
#ifdef SKIFF_HAVE_LUA_HARBOR_C
		{ "skynet.harbor.core", luaopen_skynet_harbor_core },
#endif
#ifdef SKIFF_HAVE_LUA_METRICS_C
		{ "skynet.metrics", luaopen_skynet_metrics },
#endif
#ifdef SKIFF_HAVE_LUA_DEBUGCHANNEL_C
		{ "skynet.debugchannel", luaopen_skynet_debugchannel },
#endif
		{ NULL, NULL },
	};
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	luaL_setfuncs(L, modules, 0);
	lua_pop(L, 1);
}
