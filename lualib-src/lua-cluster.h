/*
 * lua-cluster.h — `skynet.cluster.core`, the caller's side of the messages to
 * the node's `cluster` C service (their format: cluster/cluster_msg.h).
 */
#ifndef SKIFF_LUA_CLUSTER_H
#define SKIFF_LUA_CLUSTER_H

#include <lua.h>

int luaopen_skynet_cluster_core(lua_State *L);

#endif
