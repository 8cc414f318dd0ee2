/*
 * cluster_internal.h — what the files of the `cluster` C service share.
 *
 * The service is cut by job:
 *   service_cluster.c  the service itself: config, commands from clusterd,
 *                      listen sockets, the timer, the message dispatch;
 *   route.c            callers -> links: PTYPE_CLUSTER requests, the node
 *                      table, messages parked until a node has an address,
 *                      answers to callers;
 *   clink.c            one cluster link over the shared connection layer
 *                      (link/peer.h): dialing and accepting, the peer-name
 *                      policy, frame encoding for the scheduler, failing
 *                      what a closed link carried;
 *   inbound.c          links -> local services: frame decoding, multi-part
 *                      assembly, delivery, and the calls run for remote nodes;
 *   scheduler.c        the outgoing frame order of one link (its own unit).
 *
 * Message flow:
 *   caller --PTYPE_CLUSTER--> cluster --Request--> link --> remote cluster
 *       --PTYPE_RESERVED_LUA--> target --PTYPE_RESPONSE--> remote cluster --Response-->
 *       cluster --PTYPE_RESPONSE (status byte + payload)--> caller
 *
 * Links.  Each remote node name has at most one *outbound* link, dialed on
 * demand; requests to that node and their responses use it.  A node's inbound
 * links carry requests from others and the responses to them.  So a message
 * from one service to another always travels on one link, in one source
 * queue of its scheduler, which keeps the order sent.
 *
 * Invariants:
 *   - a clink exists from the dial (outbound) or the authentication (inbound)
 *     until its hconn's `closed` callback, which fails every call waiting on
 *     it (clink_closed); `links` maps its id to it all that time, so a reply
 *     computed for a link that has gone finds nothing and is dropped;
 *   - node->link is NULL or an outbound clink of that node (until its close is
 *     reaped); clink_dial dials anew rather than use one that is closing;
 *   - a call has an entry in its clink's `pending` from its first frame until
 *     its Response or the link's end; before its first frame it is only in
 *     the scheduler (or parked on its node), and is answered from there.
 */
#ifndef SKIFF_CLUSTER_INTERNAL_H
#define SKIFF_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "credential.h"
#include "link.h"
#include "pbarena.h"
#include "peer.h"
#include "scheduler.h"
#include "skynet_hashmap.h"

#include "cluster_msg.h"

#define PART_SIZE ((size_t)64 * 1024) /* payload bytes per frame */
#define WINDOW ((size_t)1024 * 1024)  /* scheduler window (scheduler.h) */
#define MAX_RECORD (PART_SIZE + 4096) /* a frame: one part and its header */
#define ERROR_MAX 512

struct clink;

enum node_state { NODE_WAITING, NODE_UP, NODE_DOWN };

struct cnode {
	char name[CLUSTER_NODE_MAX + 1];
	enum node_state state;
	char host[256];
	int port;
	struct clink *link;                     /* the outbound link, NULL when none */
	struct sched_msg *parked, *parked_tail; /* outmsgs waiting for an address */
};

/* One message to go out on a link (or to wait for its node's address). */
struct outmsg {
	struct sched_msg base; /* first: the scheduler hands this pointer back */
	unsigned frame;        /* SKIFF__CLUSTER__FRAME_TYPE__REQUEST or __RESPONSE */
	int kind;              /* CLUSTER_CALL / PUSH / QUERY (requests) */
	uint32_t caller;       /* who to answer (requests) */
	int caller_session;
	uint32_t session; /* wire session: assigned at the first frame (calls) */
	uint32_t handle;  /* destination (requests), 0 when `name` is used */
	char *name;       /* NULL or destination name */
	char *trace;      /* NULL or trace tag */
	bool ok;          /* responses */
	char *error;      /* responses with ok == false */
	void *owned;      /* skynet_free'd with the message */
};

struct clink {
	struct cluster *cl;
	struct hconn *hc;
	uint32_t cid;
	struct cnode *node; /* outbound: the node dialed; NULL inbound */
	bool retiring;      /* the node moved: close once idle */
	uint32_t next_session;
	struct skynet_u64map *pending; /* wire session -> pend_pack(caller, session) */
	struct assembly *in_parts;     /* incoming multi-part messages */
	struct sched *out;             /* outgoing frames */
	char why[ERROR_MAX];           /* set when closing: what failed calls are told */
};

/* Who waits for a call's Response: the caller and its session, in one map
 * value, so a call costs no allocation of its own. */
static inline uint64_t pend_pack(uint32_t caller, int session)
{
	return (uint64_t)caller << 32 | (uint32_t)session;
}
static inline uint32_t pend_caller(uint64_t v)
{
	return (uint32_t)(v >> 32);
}
static inline int pend_session(uint64_t v)
{
	return (int)(uint32_t)v;
}

struct listener;

struct cluster {
	struct skynet_context *ctx;
	bool has_key, has_cred; /* shared key; per-node credential (or both) */
	uint8_t key[LINK_KEY_BYTES];
	struct link_credential cred;
	char cred_name[CRED_NAME_MAX + 1]; /* the name the credential proves */
	char self[CLUSTER_NODE_MAX + 1];
	uint64_t incarnation;
	uint64_t timeout_ms, heartbeat_ms;
	size_t max_message, max_pending;
	bool nowaiting;
	int tick_session;
	struct hnet *net;
	uint32_t next_cid;
	struct skynet_u64map *links; /* clink id -> struct clink * */
	struct skynet_strmap *nodes; /* name -> struct cnode */
	struct skynet_strmap *names; /* registered name -> handle (as a pointer) */
	struct skynet_u64map *execs; /* our session -> clink id, remote session (inbound.c) */
	struct listener *listeners;
	struct pb_arena arena;
};

/* route.c */
void answer_error(struct cluster *cl, uint32_t caller, int session, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void text_reply(struct cluster *cl, uint32_t source, int session, const char *text);
void outmsg_free(struct outmsg *m);
void outmsg_fail(struct cluster *cl, struct outmsg *m, const char *why);
int route_call(struct cluster *cl, uint32_t source, int session, const void *msg, size_t sz);
void route_node(struct cluster *cl, const char *name, const char *addr);
void route_nowaiting(struct cluster *cl, bool on);
void route_free(struct cluster *cl);

/* clink.c */
extern const struct hconn_ops clink_ops;
struct hconn_config clink_config(const struct cluster *cl, enum link_role role, const char *name);
struct clink *clink_dial(struct cluster *cl, struct cnode *n);
void clink_send(struct clink *l, uint32_t source, struct outmsg *m);
void clink_respond(struct clink *l, uint32_t source, uint32_t session, bool ok, const char *error,
                   void *owned, const uint8_t *data, size_t size);
void clink_respond_error(struct clink *l, uint32_t session, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int clink_send_frame(struct clink *l, unsigned type, const ProtobufCMessage *msg);
void clink_fail(struct clink *l, const char *reason);
void clink_tick(struct cluster *cl);
void clink_free_all(struct cluster *cl, const char *why);

/* inbound.c */
void inbound_meta_free(void *meta); /* an assembly's meta_free */
void inbound_record(struct clink *l, unsigned type, uint8_t *data, size_t len);
int inbound_result(struct cluster *cl, int type, uint32_t source, int session, void *msg, size_t sz);
void inbound_free(struct cluster *cl);

#endif
