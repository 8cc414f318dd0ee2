/*
 * lua-cluster.h — `skynet.cluster.core`, and the two messages it exchanges with
 * the node's `cluster` C service (cluster/service_cluster.c).
 *
 * Caller -> cluster service, protocol PTYPE_CLUSTER, session 0 for a push:
 *     kind:u8 (CLUSTER_CALL, CLUSTER_PUSH, CLUSTER_QUERY)
 *     nodelen:u8 node[nodelen]                    1..CLUSTER_NODE_MAX bytes
 *     form:u8 then handle:u32le (form 0)          a numeric address
 *              or namelen:u8 name[namelen] (1)     "@name", ".local", ":hex"
 *     tracelen:u16le trace[tracelen]              may be empty
 *     payload (the rest: skynet.pack bytes; for QUERY the name asked for)
 * Cluster service -> caller, PTYPE_RESPONSE for the caller's session:
 *     status:u8 (CLUSTER_OK: payload follows; CLUSTER_FAILED: the reason text)
 *     For QUERY the payload is the handle as u32le.
 */
#ifndef SKIFF_LUA_CLUSTER_H
#define SKIFF_LUA_CLUSTER_H

#define PTYPE_CLUSTER 26
#define CLUSTER_CALL 0
#define CLUSTER_PUSH 1
#define CLUSTER_QUERY 2
#define CLUSTER_OK 0
#define CLUSTER_FAILED 1
#define CLUSTER_NODE_MAX 63
#define CLUSTER_TRACE_MAX 1024

#ifndef SKIFF_CLUSTER_NO_LUA
#include <lua.h>
int luaopen_skynet_cluster_core(lua_State *L);
#endif

#endif
