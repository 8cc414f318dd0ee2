/*
 * lua-debugchannel.h — skynet.debugchannel: a thread-safe line channel that
 * lets the remote debugger hand input to a service even while that service's
 * worker thread is stopped at a breakpoint (see lua-debugchannel.c).
 */
#ifndef SKIFF_LUA_DEBUGCHANNEL_H
#define SKIFF_LUA_DEBUGCHANNEL_H

#include <lua.h>

int luaopen_skynet_debugchannel(lua_State *L);

#endif
