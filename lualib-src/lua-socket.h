/*
 * lua-socket.h — the socket Lua C modules linked into snlua.
 *
 * skynet.socketdriver needs registry "skynet_context" (set by snlua) when opened;
 * skynet.netpack needs nothing.
 */
#ifndef SKIFF_LUA_SOCKET_H
#define SKIFF_LUA_SOCKET_H

#include <lua.h>

int luaopen_skynet_socketdriver(lua_State *L);
int luaopen_skynet_netpack(lua_State *L);

#endif
