/*
 * harbor_service.h — the state shared by the files of the `harbor` C service
 * (internal: nothing outside harbor/ includes it).
 *
 * The service is one struct harbor, owned by the service's single dispatch
 * thread: no locks anywhere, every function below runs inside the service's
 * callback.  The files, one job each:
 *   service_harbor.c  the service entry: commands, the master link, the tick
 *   harbor_node.c     the node state machine (UNKNOWN/CONNECTING/UP/DOWN)
 *   harbor_data.c     the message path: remote sends, Data/CallFailed frames,
 *                     per-link checks, requests in flight
 *   harbor_names.c    the replica of the master's global names
 *   harbor_stats.c    the STATS text
 *   harbor_leave.c    this node's drain told to the cluster (NodeLeaving), and
 *                     peers that are leaving
 * Invariants: h->node[id].id == id for every slot; a node's `c` is the one
 * connection whose hconn_data points back at it; a name's entry is never
 * removed from h->names (a withdrawn name keeps its entry with handle 0);
 * h->name_queued is the sum of every name's queue length.
 */
#ifndef SKIFF_HARBOR_SERVICE_H
#define SKIFF_HARBOR_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harbor.pb-c.h"
#include "harbor_config.h"
#include "pbarena.h"
#include "peer.h"
#include "skynet.h"
#include "skynet_fifo.h"
#include "skynet_harbor.h"
#include "skynet_hashmap.h"

#pragma GCC visibility push(hidden)

#define MAX_NODE 256
#define PENDING_MAX 100000    /* messages waiting for one node's link */
#define NAME_QUEUE_MAX 100000 /* default harbor_name_queue */
#define BACKOFF_MIN 100
#define BACKOFF_MAX 2000
#define NAME_CHECK_MS 500
#define JOIN_SPREAD_PER_NODE 8  /* ms of first-dial spread per node to link (join_spread) */
#define JOIN_SPREAD_MIN_NODES 8 /* up to this many at once: no spread */
#define CONNECT_PATIENCE 4      /* harbor_timeouts a busy peer may take to take our link */
#define TICK_BUSY_MS 100        /* tick period while links are made or names awaited */

#define LEAVE_REASON_MAX 63 /* bytes of a NodeLeaving reason kept and logged */

enum { NS_UNKNOWN, NS_CONNECTING, NS_UP, NS_DOWN };

struct pmsg {
	uint32_t source, dest;
	int type, session;
	void *msg;
	size_t sz;
	uint64_t deadline;
};

struct waiter {
	uint32_t source;
	int session;
};

struct wlist {
	struct waiter *v;
	size_t n, cap;
};

/* At most one log line per second for a kind of refusal; the line says how
 * many were not logged since the last one. */
struct ratelog {
	uint64_t next_ms;
	uint64_t quiet;
};

struct node {
	int id;
	int state;
	bool member;  /* the master listed it (and it has not left) */
	bool leaving; /* it said it drains (NodeLeaving), this incarnation */
	bool left;    /* it was leaving when its link closed: it is gone, not down */
	char leave_reason[LEAVE_REASON_MAX + 1];
	uint64_t incarnation;
	char address[128];
	char name[HARBOR_NODE_NAME_MAX + 1]; /* its harbor_name (from the master), or node<id> */
	struct hconn *c;                     /* current connection, maybe still handshaking */
	struct skynet_fifo *pending;         /* struct pmsg; NULL until first used */
	uint64_t deadline;                   /* CONNECTING: give up on the queue after this */
	uint64_t deadline_max;               /* ... which a busy peer extends up to this */
	uint64_t retry_at, backoff;
	struct skynet_u64map *reqs; /* requests carried to it: (sender << 32 | session) -> dest */
	struct wlist link_waiters, connect_waiters;
	struct hconn_stats closed; /* counters of this node's links that closed */
	uint64_t calls_failed;     /* requests to it (by handle or by a name it held) failed
	                              * because it was down or unreachable */
	uint64_t refused;          /* frames from it dropped by the per-link checks */
	struct ratelog refused_log;
};

struct name {
	char key[GLOBAL_NAME_MAX + 1];
	uint32_t handle;       /* 0: unknown yet */
	struct skynet_fifo *q; /* struct pmsg waiting for the handle; NULL until used */
	struct wlist waiters;  /* QUERYNAME callers */
	uint64_t asked_at;
	int down_node; /* handle 0 because this node, now down, held it; else 0 */
};

struct harbor {
	struct skynet_context *ctx;
	struct harbor_config cfg;
	uint32_t self_high; /* id << 24 */
	uint64_t incarnation;
	struct hnet *net;
	struct pb_arena arena;
	int listen;
	char address[128];
	char master_addr[128];
	struct hconn *master;
	bool master_up, ready;
	bool table_fresh; /* master link up and its node table received since:
	                                 * our view of who is down is current */
	uint64_t master_retry_at, master_backoff;
	struct wlist ready_waiters, master_waiters;
	struct wlist member_waiters; /* MEMBERS callers waiting for a change */
	uint32_t member_gen;         /* bumped whenever a node becomes or stops being a member */
	struct node node[MAX_NODE];
	struct skynet_strmap *names; /* global name -> struct name */
	size_t name_queued, name_queue_max;
	size_t name_waiters;       /* QUERYNAME callers waiting, over all names */
	int tick_session;          /* session of the periodic tick's pending timer */
	uint64_t tick_at, kick_at; /* when it fires; when the last one-off tick fires */
	uint64_t next_name_check;
	struct ratelog local_only_log; /* local messages refused at the boundary */
	int master_node;               /* id of the node that hosts the master (from its
	                                * link's handshake), 0 if unknown */
	bool leaving;                  /* this node drains: peers and master were told */
	char leave_reason[LEAVE_REASON_MAX + 1];
};

static inline bool is_request(int type, int session)
{
	return session != 0 && type != PTYPE_RESPONSE && type != PTYPE_ERROR && type != PTYPE_MULTICAST;
}

/* Queues *m at the tail of *q (created on first use); -1 when out of memory. */
static inline int pmsg_push(struct skynet_fifo **q, const struct pmsg *m)
{
	if (*q == NULL && (*q = skynet_fifo_new(sizeof(*m))) == NULL)
		return -1;
	return skynet_fifo_push(*q, m);
}

/* Down or gone: sends to it fail at once (CONNECTING and UP are not down). */
static inline bool node_is_down(const struct node *nd)
{
	return nd->state == NS_DOWN || nd->state == NS_UNKNOWN;
}

static inline bool pmsg_pop(struct skynet_fifo *q, struct pmsg *m)
{
	return q && skynet_fifo_pop(q, m);
}

static inline size_t pmsg_count(const struct skynet_fifo *q)
{
	return q ? skynet_fifo_count(q) : 0;
}

static inline uint64_t req_key(uint32_t source, int session)
{
	return (uint64_t)source << 32 | (uint32_t)session;
}

/* service_harbor.c */
void reply(struct harbor *h, uint32_t to, int session, const char *text);
bool wlist_add(struct wlist *w, uint32_t source, int session);
void tick_soon(struct harbor *h);
uint64_t backoff_next(uint64_t *backoff);
void wlist_wake(struct harbor *h, struct wlist *w, const char *text);
void send_master(struct harbor *h, unsigned type, const ProtobufCMessage *msg);
struct hconn_config link_config(struct harbor *h, enum link_role role, enum link_purpose purpose);

/* harbor_node.c */
void node_down(struct harbor *h, struct node *nd, const char *reason);
/* Marks nd a member or not; a change wakes the MEMBERS callers. */
void node_set_member(struct harbor *h, struct node *nd, bool member);
/* MEMBERS: "<gen> id id ..." (the other members) now if `seen` is not the
 * current generation, else when membership next changes. */
void node_members(struct harbor *h, uint32_t source, int session, uint32_t seen);
void node_member(struct harbor *h, const Skiff__Harbor__NodeInfo *info, uint32_t spread_ms);
uint32_t join_spread(int members);
void node_established(struct harbor *h, struct hconn *c);
void node_admitted(struct harbor *h, struct hconn *c);
void node_closed(struct harbor *h, struct hconn *c, const char *reason);
void node_tick(struct harbor *h, uint64_t now);
bool node_busy(const struct harbor *h);
void node_release(struct node *nd);
void node_leaving(struct harbor *h, struct node *nd, const char *reason);
void node_watch(struct harbor *h, struct node *nd);
void leave_send(struct harbor *h, struct hconn *c);
void leave_start(struct harbor *h, const char *reason);
void leave_reason_copy(char *dst, const char *src);

/* harbor_data.c */
void send_error(struct harbor *h, uint32_t from, uint32_t to, int session, const char *reason);
void fail_msg(struct harbor *h, uint32_t source, uint32_t dest, int type, int session, void *msg,
              const char *reason);
size_t fail_queue(struct harbor *h, struct skynet_fifo *q, const char *reason);
void send_handle(struct harbor *h, uint32_t source, uint32_t dest, int type, int session, void *msg,
                 size_t sz);
void remote_message(struct harbor *h, struct remote_message *rm, uint32_t source, int session);
void peer_record(struct harbor *h, struct hconn *c, struct node *nd, unsigned type, ProtobufCMessage *msg);
size_t req_count(const struct node *nd);

/* harbor_names.c */
struct name *name_get(struct harbor *h, const char *key, bool create);
struct name *name_next(struct harbor *h, size_t *pos);
void name_forget(struct harbor *h, struct name *n);
void name_ask(struct harbor *h, struct name *n);
void send_name(struct harbor *h, uint32_t source, const char *key, int type, int session, void *msg,
               size_t sz);
void register_name(struct harbor *h, const char *key, uint32_t handle);
void bind_remote(struct harbor *h, Skiff__Harbor__NameBinding *b);
void name_unresolved(struct harbor *h, const Skiff__Harbor__NameAnswer *a);
void announce(struct harbor *h);
void check_names(struct harbor *h, uint64_t now);
void names_release(struct harbor *h);

/* harbor_stats.c */
void stats(struct harbor *h, uint32_t source, int session);
const char *node_state_name(const struct node *nd);

#pragma GCC visibility pop

#endif
