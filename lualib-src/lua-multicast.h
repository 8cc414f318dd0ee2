/*
 * lua-multicast.h — the C half of skynet.multicast (`skynet.multicast.core`).
 */
#ifndef SKIFF_LUA_MULTICAST_H
#define SKIFF_LUA_MULTICAST_H

#include <lua.h>

int luaopen_skynet_multicast_core(lua_State *L);

#endif
