/*
 * preload.c — register the Lua C modules linked into snlua in package.preload,
 * so `require "skynet.core"` and friends never touch the file system.
 */
#include "preload.h"

#include <lauxlib.h>

#include "lua-socket.h"
#include "lua-multicast.h"
#include "lua-cluster.h"
#include "lua-debugchannel.h"
#include "lua-crypt.h"
#include "lua-sproto.h"
#include "lua-db.h"

void skiff_lualib_preload(lua_State *L)
{
	static const luaL_Reg modules[] = {
		{ "skynet.core", luaopen_skynet_core },
		{ "skynet.profile", luaopen_skynet_profile },
		{ "skynet.memory", luaopen_skynet_memory },
		{ "skynet.codecache", luaopen_skynet_codecache },
		{ "skynet.socketdriver", luaopen_skynet_socketdriver },
		{ "skynet.netpack", luaopen_skynet_netpack },
		{ "skynet.multicast.core", luaopen_skynet_multicast_core },
		{ "skynet.cluster.core", luaopen_skynet_cluster_core },
		{ "skynet.metrics", luaopen_skynet_metrics },
		{ "skynet.debugchannel", luaopen_skynet_debugchannel },
		{ "skynet.crypt", luaopen_skynet_crypt },
		{ "md5", luaopen_md5 },
		{ "sproto.core", luaopen_sproto_core },
		{ "skynet.sharebox", luaopen_skynet_sharebox },
		{ "skynet.stm", luaopen_skynet_stm },
		{ "skynet.secretfile", luaopen_skynet_secretfile },
		{ "skynet.db.mysql.aux", luaopen_skynet_db_mysql_aux },
		{ "bson", luaopen_bson },
		{ "http.wscore", luaopen_http_wscore },
		{ "ltls.c", luaopen_ltls_c },
		{ "ltls.init.c", luaopen_ltls_init_c },
		{ NULL, NULL },
	};
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	luaL_setfuncs(L, modules, 0);
	lua_pop(L, 1);
}
