/*
 * cluster_msg.h — the two messages between a node's services and its
 * `cluster` C service (service_cluster.c): what `skynet.cluster.core`
 * (lualib-src/lua-cluster.c) builds and reads.  One definition for both sides.
 *
 * Caller -> cluster service, protocol PTYPE_CLUSTER (core/skynet.h), session
 * 0 for a push:
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
#ifndef SKIFF_CLUSTER_MSG_H
#define SKIFF_CLUSTER_MSG_H

#define CLUSTER_CALL 0
#define CLUSTER_PUSH 1
#define CLUSTER_QUERY 2
#define CLUSTER_OK 0
#define CLUSTER_FAILED 1
#define CLUSTER_NODE_MAX 63
#define CLUSTER_TRACE_MAX 1024

#endif
