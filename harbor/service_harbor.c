/*
 * service_harbor.c — the C service `harbor`: this node's links to the master and
 * to every other node of a harbor cluster (docs/decisions.md, "Harbor").
 *
 * Inputs:
 *   PTYPE_SYSTEM   a struct remote_message from the runtime (skynet_harbor.h):
 *                  a message for a handle of another node or for a global name;
 *                  envelope source/session are the sender's.
 *   PTYPE_SOCKET   link traffic (peer.h does the bytes, we do the frames).
 *   PTYPE_HARBOR   text commands from local services (lualib/skynet/harbor.lua):
 *                    REGISTER name :handle     bind a global name (no reply)
 *                    QUERYNAME name            reply ":handle" once it is known
 *                    NAME name                 reply ":handle" as known here now
 *                                              (":00000000" if unknown); never waits
 *                    LINK id                   reply when node id is (or goes) down
 *                    CONNECT id                reply when node id is (or comes) up
 *                    LINKMASTER                reply when the master link is lost
 *                    READY                     reply once the master sent its table
 *                    STATS                     reply the link table (below)
 *                  replies are PTYPE_RESPONSE text.
 *   PTYPE_RESPONSE our periodic tick.
 *
 * STATS reply: lines of space-separated key=value fields, '\n' after each.
 *   self id=<n> incarnation=<hex> master=<up|down> master_addr=<host:port>
 *        names=<bound names known here> name_queued=<messages waiting for names>
 *   peer id=<n> addr=<host:port|-> state=<unknown|connecting|up|down>
 *        incarnation=<hex, 0 if never seen> hb_age_ms=<ms since a record arrived|->
 *        rtt_us=<last heartbeat round trip|-> frames_out=<n> bytes_out=<n>
 *        frames_in=<n> bytes_in=<n> calls_failed=<n> queued=<n> pending_calls=<n>
 *        refused=<n>
 *   One peer line per node that is a member or ever had traffic.  frames/bytes
 *   count sealed records (heartbeats included) and wire bytes over every link
 *   to that node since this node started; calls_failed counts requests failed
 *   because the node was down or unreachable; queued are messages waiting for
 *   its link; pending_calls are requests carried to it and not yet answered;
 *   refused counts frames from it dropped by the per-link checks (a source
 *   that is not its own service, a type that never crosses nodes).
 *   Heartbeats are only sent on idle links, so rtt_us may be old.
 *   name <global name> :<handle, 8 hex>    one line per bound global name
 *
 * Node states (one slot per id 1..255):
 *   UNKNOWN    not a member as far as we know: sends fail at once;
 *   CONNECTING member, link not up yet: sends wait in a bounded FIFO for at most
 *              harbor_timeout, then fail;
 *   UP         link established: sends are sealed into its output buffer;
 *   DOWN       member whose link dropped: sends fail at once until it is back.
 * Exactly one link per pair: a node connects to members with a lower id and
 * accepts the others.  The initiator retries with backoff while the peer is a
 * member.  A node is declared down when its link closes for any reason
 * (including silence for harbor_timeout, see peer.h) or the master says it left:
 * every request we carried to it and that is still unanswered gets PTYPE_ERROR
 * (as if from the destination), its queue fails, LINK waiters wake and its
 * names are forgotten.
 *
 * Per-link checks (a node speaks only for itself): a Data or CallFailed whose
 * source is not a handle of the node at the other end of its link, and a Data
 * of a type that carries local pointers or local control (harbor_type_refused:
 * multicast, system, harbor, socket, and debug unless harbor_remote_debug), is
 * dropped, counted per peer (STATS refused=) and logged at most once a second
 * per peer; a refused request with a genuine source gets CallFailed.  Local
 * messages of those types never leave: the sender gets PTYPE_ERROR.  A peer
 * link is accepted only for the id and incarnation the master listed.
 *
 * Requests are tracked per peer by (sender, session): a Data with a session
 * whose type is not RESPONSE/ERROR/MULTICAST is a request; a RESPONSE, ERROR or
 * CallFailed coming back for it clears the entry.
 *
 * Names: a replica of the master's registry (name -> handle) plus local
 * bindings.  A message to an unknown name waits in a bounded queue while a
 * NameQuery goes to the master, until a NameAnswer or harbor_name_timeout
 * (requests then fail with PTYPE_ERROR).  The queue holds at most
 * `harbor_name_queue` [100000] messages over all names; past that a message
 * fails at once.  Local bindings whose service has exited are withdrawn within
 * NAME_CHECK_MS, or at once when a service registers the same name.
 *
 * Flushing: frames are sealed into each link's buffer and handed to the socket
 * layer when our message queue is empty (one write per batch).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harbor_frame.h"
#include "harbor.pb-c.h"
#include "harbor_config.h"
#include "peer.h"
#include "skynet.h"
#include "skynet_handle.h"
#include "skynet_harbor.h"
#include "skynet_server.h"
#include "skynet_socket.h"

#define MAX_NODE 256
#define PENDING_MAX 100000          /* messages waiting for one node's link */
#define NAME_QUEUE_MAX 100000       /* default harbor_name_queue */
#define NAME_BUCKETS 1024
#define BACKOFF_MIN 100
#define BACKOFF_MAX 2000
#define NAME_CHECK_MS 500

enum { NS_UNKNOWN, NS_CONNECTING, NS_UP, NS_DOWN };

struct pmsg {
	struct pmsg *next;
	uint32_t source, dest;
	int type, session;
	void *msg;
	size_t sz;
	uint64_t deadline;
};

struct queue {
	struct pmsg *head, *tail;
	size_t n;
};

struct waiter {
	uint32_t source;
	int session;
};

struct wlist {
	struct waiter *v;
	size_t n, cap;
};

/* Requests carried to one peer: open addressing on (sender << 32 | session),
 * linear probing, deletion by backward shift; key 0 is empty. */
struct req {
	uint64_t key;
	uint32_t dest;
};

struct reqset {
	struct req *slot;
	size_t cap, n;
};

/* At most one log line per second for a kind of refusal; the line says how
 * many were not logged since the last one. */
struct ratelog {
	uint64_t next_ms;
	uint64_t quiet;
};

static bool ratelog_ok(struct ratelog *r, uint64_t now, uint64_t *quiet)
{
	if (now < r->next_ms) {
		r->quiet++;
		return false;
	}
	*quiet = r->quiet;
	r->quiet = 0;
	r->next_ms = now + 1000;
	return true;
}

struct node {
	int id;
	int state;
	bool member;                 /* the master listed it (and it has not left) */
	uint64_t incarnation;
	char address[128];
	struct hconn *c;             /* current connection, maybe still handshaking */
	struct queue pending;
	uint64_t deadline;           /* CONNECTING: give up on the queue after this */
	uint64_t retry_at, backoff;
	struct reqset reqs;
	struct wlist link_waiters, connect_waiters;
	struct hconn_stats closed;   /* counters of this node's links that closed */
	uint64_t calls_failed;       /* requests failed because it was down/unreachable */
	uint64_t refused;            /* frames from it dropped by the per-link checks */
	struct ratelog refused_log;
};

struct name {
	struct name *next;
	char key[GLOBAL_NAME_MAX + 1];
	uint32_t handle;             /* 0: unknown yet */
	struct queue q;
	struct wlist waiters;        /* QUERYNAME callers */
	uint64_t asked_at;
};

struct harbor {
	struct skynet_context *ctx;
	struct harbor_config cfg;
	uint32_t self_high;           /* id << 24 */
	uint64_t incarnation;
	struct hnet *net;
	struct pb_arena arena;
	int listen;
	char address[128];
	char master_addr[128];
	struct hconn *master;
	bool master_up, ready;
	uint64_t master_retry_at, master_backoff;
	struct wlist ready_waiters, master_waiters;
	struct node node[MAX_NODE];
	struct name *names[NAME_BUCKETS];
	size_t name_queued, name_queue_max;
	uint64_t next_name_check;
	struct ratelog local_only_log;   /* local messages refused at the boundary */
};

static bool is_request(int type, int session)
{
	return session != 0 && type != PTYPE_RESPONSE && type != PTYPE_ERROR &&
	       type != PTYPE_MULTICAST;
}

/* ---- small containers ------------------------------------------------------------ */

static void wlist_add(struct wlist *w, uint32_t source, int session)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;
		struct waiter *v = realloc(w->v, cap * sizeof(*v));
		if (v == NULL)
			return;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].source = source;
	w->v[w->n].session = session;
	w->n++;
}

static void reply(struct harbor *h, uint32_t to, int session, const char *text)
{
	if (session == 0)
		return;
	skynet_send(h->ctx, 0, to, PTYPE_RESPONSE, session, (void *)text, strlen(text));
}

static void wlist_wake(struct harbor *h, struct wlist *w, const char *text)
{
	for (size_t i = 0; i < w->n; i++)
		reply(h, w->v[i].source, w->v[i].session, text);
	w->n = 0;
}

static void queue_push(struct queue *q, struct pmsg *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->n++;
}

static struct pmsg *queue_pop(struct queue *q)
{
	struct pmsg *m = q->head;
	if (m) {
		q->head = m->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->n--;
	}
	return m;
}

static inline uint64_t req_key(uint32_t source, int session)
{
	return (uint64_t)source << 32 | (uint32_t)session;
}

static size_t req_slot(uint64_t key, size_t cap)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return (size_t)key & (cap - 1);
}

static void reqset_put(struct reqset *s, uint64_t key, uint32_t dest);

static int reqset_grow(struct reqset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	struct req *old = s->slot;
	size_t oldcap = s->cap;
	s->slot = calloc(cap, sizeof(*s->slot));
	if (s->slot == NULL) {
		s->slot = old;
		return -1;
	}
	s->cap = cap;
	s->n = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			reqset_put(s, old[i].key, old[i].dest);
	free(old);
	return 0;
}

static void reqset_put(struct reqset *s, uint64_t key, uint32_t dest)
{
	if ((s->n + 1) * 2 > s->cap && reqset_grow(s) != 0)
		return;
	size_t i = req_slot(key, s->cap);
	while (s->slot[i].key && s->slot[i].key != key)
		i = (i + 1) & (s->cap - 1);
	if (s->slot[i].key == 0)
		s->n++;
	s->slot[i].key = key;
	s->slot[i].dest = dest;
}

static void reqset_del(struct reqset *s, uint64_t key)
{
	if (s->n == 0)
		return;
	size_t mask = s->cap - 1;
	size_t i = req_slot(key, s->cap);
	while (s->slot[i].key != key) {
		if (s->slot[i].key == 0)
			return;
		i = (i + 1) & mask;
	}
	/* backward shift: keep every later entry of the run reachable */
	size_t j = i;
	for (;;) {
		s->slot[i].key = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (s->slot[j].key == 0) {
				s->n--;
				return;
			}
			size_t k = req_slot(s->slot[j].key, s->cap);
			/* move j to i unless k lies cyclically in (i, j] */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		s->slot[i] = s->slot[j];
		i = j;
	}
}

/* ---- failing messages ----------------------------------------------------------- */

/* The message (source -> dest) cannot be delivered: free it and, for a request,
 * tell the sender with PTYPE_ERROR as if dest had answered. */
static void fail_msg(struct harbor *h, uint32_t source, uint32_t dest, int type, int session,
                     void *msg)
{
	skynet_free(msg);
	if (is_request(type, session) && source != 0)
		skynet_send(h->ctx, dest ? dest : source, source, PTYPE_ERROR, session, NULL, 0);
}

/* Fails every message of q; returns how many were requests. */
static size_t fail_queue(struct harbor *h, struct queue *q)
{
	size_t requests = 0;
	struct pmsg *m;
	while ((m = queue_pop(q)) != NULL) {
		if (is_request(m->type, m->session))
			requests++;
		fail_msg(h, m->source, m->dest, m->type, m->session, m->msg);
		free(m);
	}
	return requests;
}

/* ---- names ---------------------------------------------------------------------- */

static unsigned name_hash(const char *s)
{
	unsigned hv = 2166136261u;
	for (; *s; s++)
		hv = (hv ^ (unsigned char)*s) * 16777619u;
	return hv % NAME_BUCKETS;
}

static struct name *name_get(struct harbor *h, const char *key, bool create)
{
	unsigned b = name_hash(key);
	for (struct name *n = h->names[b]; n; n = n->next)
		if (strcmp(n->key, key) == 0)
			return n;
	if (!create)
		return NULL;
	struct name *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	snprintf(n->key, sizeof(n->key), "%s", key);
	n->next = h->names[b];
	h->names[b] = n;
	return n;
}

static void send_handle(struct harbor *h, uint32_t source, uint32_t dest, int type, int session,
                        void *msg, size_t sz);

/* A name got its handle: deliver what waited, wake the queries. */
static void name_bound(struct harbor *h, struct name *n, uint32_t handle)
{
	n->handle = handle;
	char text[16];
	snprintf(text, sizeof(text), ":%08x", handle);
	wlist_wake(h, &n->waiters, text);
	struct pmsg *m;
	while ((m = queue_pop(&n->q)) != NULL) {
		h->name_queued--;
		send_handle(h, m->source, handle, m->type, m->session, m->msg, m->sz);
		free(m);
	}
}

static void send_master(struct harbor *h, unsigned type, const ProtobufCMessage *msg)
{
	if (h->master && h->master_up && hconn_send(h->master, type, msg) != 0)
		hconn_close(h->master, "cannot send to the master");
}

static void name_ask(struct harbor *h, struct name *n)
{
	Skiff__Harbor__NameQuery q = SKIFF__HARBOR__NAME_QUERY__INIT;
	q.name = n->key;
	send_master(h, SKIFF__HARBOR__FRAME_TYPE__NAME_QUERY, &q.base);
	n->asked_at = hnet_now_ms();
}

static void send_name(struct harbor *h, uint32_t source, const char *key, int type, int session,
                      void *msg, size_t sz)
{
	struct name *n = name_get(h, key, true);
	if (n && n->handle) {
		send_handle(h, source, n->handle, type, session, msg, sz);
		return;
	}
	struct pmsg *m = n ? malloc(sizeof(*m)) : NULL;
	if (m == NULL || h->name_queued >= h->name_queue_max) {
		free(m);
		skynet_error(h->ctx, "harbor: drop message to %s from :%08x: name queue full", key,
		             source);
		fail_msg(h, source, 0, type, session, msg);
		return;
	}
	m->source = source;
	m->dest = 0;
	m->type = type;
	m->session = session;
	m->msg = msg;
	m->sz = sz;
	m->deadline = hnet_now_ms() + h->cfg.name_timeout_ms;
	queue_push(&n->q, m);
	h->name_queued++;
	if (n->q.n == 1 && n->waiters.n == 0)
		name_ask(h, n);
}

static void name_forget(struct harbor *h, struct name *n)
{
	n->handle = 0;
}

/* A local binding whose service is gone: free the name here and at the master
 * (which tells every node).  Returns true if it was withdrawn. */
static bool name_withdraw_dead(struct harbor *h, struct name *n)
{
	if (n->handle == 0 || (n->handle >> 24) != (uint32_t)h->cfg.id)
		return false;
	struct skynet_context *ctx = skynet_handle_grab(n->handle);
	if (ctx) {
		skynet_context_release(ctx);
		return false;
	}
	Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameWithdraw w = SKIFF__HARBOR__NAME_WITHDRAW__INIT;
	nb.name = n->key;
	nb.handle = n->handle;
	w.binding = &nb;
	send_master(h, SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW, &w.base);
	skynet_error(h->ctx, "harbor: global name %s withdrawn (:%08x exited)", n->key, n->handle);
	name_forget(h, n);
	return true;
}

/* ---- nodes ---------------------------------------------------------------------- */

static void node_down(struct harbor *h, struct node *nd, const char *reason)
{
	if (nd->c) {
		struct hconn *c = nd->c;
		nd->c = NULL;
		hconn_set_data(c, NULL);
		hconn_close(c, reason);
	}
	int was = nd->state;
	nd->state = nd->member ? NS_DOWN : NS_UNKNOWN;
	size_t failed = nd->pending.n;
	nd->calls_failed += fail_queue(h, &nd->pending);
	size_t calls = nd->reqs.n;
	nd->calls_failed += calls;
	for (size_t i = 0; i < nd->reqs.cap; i++) {
		struct req *r = &nd->reqs.slot[i];
		if (r->key) {
			uint32_t src = (uint32_t)(r->key >> 32);
			int session = (int)(uint32_t)r->key;
			skynet_send(h->ctx, r->dest, src, PTYPE_ERROR, session, NULL, 0);
			r->key = 0;
		}
	}
	nd->reqs.n = 0;
	wlist_wake(h, &nd->link_waiters, "down");
	for (unsigned b = 0; b < NAME_BUCKETS; b++)
		for (struct name *n = h->names[b]; n; n = n->next)
			if (n->handle && (int)(n->handle >> 24) == nd->id)
				name_forget(h, n);
	if (was == NS_UP || failed || calls)
		skynet_error(h->ctx, "harbor: node %d is down (%s): %zu pending calls failed, "
		             "%zu queued messages dropped", nd->id, reason, calls, failed);
	nd->retry_at = hnet_now_ms() + nd->backoff;
}

static void node_flush_pending(struct harbor *h, struct node *nd)
{
	struct pmsg *m;
	while (nd->state == NS_UP && (m = queue_pop(&nd->pending)) != NULL) {
		send_handle(h, m->source, m->dest, m->type, m->session, m->msg, m->sz);
		free(m);
	}
}

static struct hconn_config link_config(struct harbor *h, enum link_role role,
                                       enum link_purpose purpose)
{
	struct hconn_config hc = {
		.role = role,
		.purpose = purpose,
		.cluster_key = harbor_config_key(&h->cfg),
		.credential = harbor_config_cred(&h->cfg),
		.max_record = purpose == LINK_HARBOR_MASTER ? HARBOR_MASTER_MAX_RECORD
		                                            : h->cfg.max_message + HARBOR_DATA_OVERHEAD,
		.handshake_ms = h->cfg.timeout_ms,
	};
	hc.self.node_id = (uint32_t)h->cfg.id;
	hc.self.incarnation = h->incarnation;
	snprintf(hc.self.name, sizeof(hc.self.name), "node%d", h->cfg.id);
	return hc;
}

static void node_connect(struct harbor *h, struct node *nd)
{
	struct hconn_config hc = link_config(h, LINK_INITIATOR, LINK_HARBOR_PEER);
	nd->c = hnet_connect(h->net, nd->address, &hc);
	if (nd->c)
		hconn_set_data(nd->c, nd);
	nd->backoff = nd->backoff ? nd->backoff * 2 : BACKOFF_MIN;
	if (nd->backoff > BACKOFF_MAX)
		nd->backoff = BACKOFF_MAX;
	nd->retry_at = hnet_now_ms() + nd->backoff;
}

/* The master lists node `id` with this incarnation and address. */
static void node_member(struct harbor *h, uint32_t id, uint64_t incarnation, const char *address)
{
	if (id < 1 || id >= MAX_NODE || (int)id == h->cfg.id)
		return;
	struct node *nd = &h->node[id];
	if (nd->state == NS_UP && nd->incarnation != incarnation)
		node_down(h, nd, "replaced by a new incarnation");
	nd->member = true;
	nd->incarnation = incarnation;
	snprintf(nd->address, sizeof(nd->address), "%s", address ? address : "");
	if (nd->state != NS_UP) {
		if (nd->state != NS_CONNECTING)
			nd->deadline = hnet_now_ms() + h->cfg.timeout_ms;
		nd->state = NS_CONNECTING;
		nd->backoff = 0;
		nd->retry_at = 0;
	}
}

/* ---- sending data ----------------------------------------------------------------- */

static void send_data(struct harbor *h, struct node *nd, uint32_t source, uint32_t dest, int type,
                      int session, void *msg, size_t sz)
{
	Skiff__Harbor__Data d = SKIFF__HARBOR__DATA__INIT;
	d.source = source;
	d.destination_case = SKIFF__HARBOR__DATA__DESTINATION_HANDLE;
	d.handle = dest;
	d.type = (uint32_t)type;
	d.session = (uint32_t)session;
	d.payload.data = msg;
	d.payload.len = sz;
	d.dest_incarnation = nd->incarnation;
	int rc = hconn_send(nd->c, SKIFF__HARBOR__FRAME_TYPE__DATA, &d.base);
	if (rc != 0) {
		skynet_error(h->ctx, "harbor: cannot send to :%08x from :%08x (%zu bytes): %s", dest,
		             source, sz, link_strerror(rc));
		fail_msg(h, source, dest, type, session, msg);
		return;
	}
	skynet_free(msg);
	if (is_request(type, session))
		reqset_put(&nd->reqs, req_key(source, session), dest);
}

static void send_handle(struct harbor *h, uint32_t source, uint32_t dest, int type, int session,
                        void *msg, size_t sz)
{
	int id = (int)(dest >> 24);
	if (id == h->cfg.id) {
		if (skynet_send(h->ctx, source, dest, type | PTYPE_TAG_DONTCOPY, session, msg, sz) < 0 &&
		    is_request(type, session))
			skynet_send(h->ctx, dest, source, PTYPE_ERROR, session, NULL, 0);
		return;
	}
	if (sz > h->cfg.max_message) {
		skynet_error(h->ctx, "harbor: message of %zu bytes to :%08x from :%08x is over "
		             "harbor_max_message (%zu)", sz, dest, source, h->cfg.max_message);
		fail_msg(h, source, dest, type, session, msg);
		return;
	}
	struct node *nd = &h->node[id];
	switch (nd->state) {
	case NS_UP:
		send_data(h, nd, source, dest, type, session, msg, sz);
		return;
	case NS_CONNECTING:
		if (nd->pending.n < PENDING_MAX) {
			struct pmsg *m = malloc(sizeof(*m));
			if (m) {
				m->source = source;
				m->dest = dest;
				m->type = type;
				m->session = session;
				m->msg = msg;
				m->sz = sz;
				queue_push(&nd->pending, m);
				return;
			}
		}
		skynet_error(h->ctx, "harbor: drop message to :%08x: queue for node %d is full", dest, id);
		break;
	default:
		if (is_request(type, session))
			nd->calls_failed++;
		break;
	}
	fail_msg(h, source, dest, type, session, msg);
}

static void remote_message(struct harbor *h, struct remote_message *rm, uint32_t source, int session)
{
	int type = rm->type;
	void *msg = (void *)rm->message;
	const char *refused = harbor_type_refused(type, h->cfg.remote_debug);
	if (refused) {
		uint64_t quiet;
		if (ratelog_ok(&h->local_only_log, hnet_now_ms(), &quiet))
			skynet_error(h->ctx, "harbor: refused a type %d message from :%08x to another node: "
			             "%s (%llu more refused since the last such line)", type, source, refused,
			             (unsigned long long)quiet);
		fail_msg(h, source, rm->destination.handle, type, session, msg);
		return;
	}
	if (rm->destination.handle) {
		send_handle(h, source, rm->destination.handle, type, session, msg, rm->sz);
		return;
	}
	char key[GLOBALNAME_LENGTH + 1];
	memcpy(key, rm->destination.name, GLOBALNAME_LENGTH);
	key[GLOBALNAME_LENGTH] = '\0';
	if (strlen(key) > GLOBAL_NAME_MAX || key[0] == '\0') {
		skynet_error(h->ctx, "harbor: bad global name '%s' from :%08x", key, source);
		fail_msg(h, source, 0, type, session, msg);
		return;
	}
	send_name(h, source, key, type, session, msg, rm->sz);
}

/* ---- frames from peers ------------------------------------------------------------ */

static void send_call_failed(struct node *nd, uint32_t from, uint32_t to, int session,
                             const char *reason)
{
	Skiff__Harbor__CallFailed f = SKIFF__HARBOR__CALL_FAILED__INIT;
	f.source = from;
	f.destination = to;
	f.session = (uint32_t)session;
	f.reason = (char *)reason;
	if (nd->c)
		hconn_send(nd->c, SKIFF__HARBOR__FRAME_TYPE__CALL_FAILED, &f.base);
}

/* A frame from nd broke a per-link check: it is dropped, counted, and logged
 * at most once a second per peer. */
static void refuse(struct harbor *h, struct node *nd, const char *what, const char *why,
                   uint32_t source, uint32_t dest, int type)
{
	nd->refused++;
	uint64_t quiet;
	if (ratelog_ok(&nd->refused_log, hnet_now_ms(), &quiet))
		skynet_error(h->ctx, "harbor: refused %s from node %d (%s): %s (type %d, :%08x -> :%08x; "
		             "%llu refused in all, %llu since the last line)", what, nd->id,
		             nd->c ? hconn_addr(nd->c) : "-", why, type, source, dest,
		             (unsigned long long)nd->refused, (unsigned long long)quiet);
}

static void on_data(struct harbor *h, struct node *nd, Skiff__Harbor__Data *d)
{
	int type = d->type > 255 ? -1 : (int)d->type;
	int session = (int)d->session;
	uint32_t dest = 0;
	/* handle and name share a union: the handle the sender named, if any */
	uint32_t named = d->destination_case == SKIFF__HARBOR__DATA__DESTINATION_HANDLE ? d->handle : 0;
	/* The peer speaks only for its own services: a message whose source is not
	 * a handle of the node at the other end of this link is forged.  No answer
	 * goes back (it would go to whoever the forger named). */
	if ((d->source >> 24) != (uint32_t)nd->id) {
		refuse(h, nd, "a message", "its source is not a service of that node", d->source,
		       named, type);
		return;
	}
	const char *local_only = harbor_type_refused(type, h->cfg.remote_debug);
	if (local_only) {
		refuse(h, nd, "a message", local_only, d->source, named, type);
		if (is_request(type, session))
			send_call_failed(nd, named, d->source, session, local_only);
		return;
	}
	if (d->destination_case == SKIFF__HARBOR__DATA__DESTINATION_HANDLE) {
		dest = d->handle;
	} else if (d->destination_case == SKIFF__HARBOR__DATA__DESTINATION_NAME && d->name) {
		struct name *n = name_get(h, d->name, false);
		if (n && n->handle && (n->handle >> 24) == (uint32_t)h->cfg.id)
			dest = n->handle;
	}
	if (type == PTYPE_RESPONSE || type == PTYPE_ERROR)
		reqset_del(&nd->reqs, req_key(dest, session));
	const char *why = NULL;
	if (d->dest_incarnation != 0 && d->dest_incarnation != h->incarnation)
		why = "addressed to a previous incarnation of this node";
	else if (dest == 0 || (dest >> 24) != (uint32_t)h->cfg.id)
		why = "no such destination on this node";
	if (why == NULL) {
		void *payload = NULL;
		size_t sz = d->payload.len;
		if (sz) {
			payload = pb_arena_steal(&h->arena, d->payload.data);
			if (payload == NULL) {
				payload = skynet_malloc(sz);
				memcpy(payload, d->payload.data, sz);
			}
		}
		if (skynet_send(h->ctx, d->source, dest, type | PTYPE_TAG_DONTCOPY, session, payload,
		                sz) >= 0)
			return;
		why = "no such service";
	}
	skynet_error(h->ctx, "harbor: cannot deliver to :%08x from :%08x (type %d): %s", dest,
	             d->source, type, why);
	if (is_request(type, session))
		send_call_failed(nd, dest ? dest : named, d->source, session, why);
}

static void on_call_failed(struct harbor *h, struct node *nd, Skiff__Harbor__CallFailed *f)
{
	/* only the peer's own services can fail a call (see on_data); source 0:
	 * the peer had no service to name (a global name it did not know) */
	if (f->source != 0 && (f->source >> 24) != (uint32_t)nd->id) {
		refuse(h, nd, "a CallFailed", "its source is not a service of that node", f->source,
		       f->destination, PTYPE_ERROR);
		return;
	}
	reqset_del(&nd->reqs, req_key(f->destination, (int)f->session));
	if ((f->destination >> 24) == (uint32_t)h->cfg.id)
		skynet_send(h->ctx, f->source, f->destination, PTYPE_ERROR, (int)f->session, NULL, 0);
}

static void peer_record(struct harbor *h, struct hconn *c, struct node *nd, unsigned type,
                        ProtobufCMessage *msg)
{
	switch (type) {
	case SKIFF__HARBOR__FRAME_TYPE__DATA:
		on_data(h, nd, (Skiff__Harbor__Data *)msg);
		break;
	case SKIFF__HARBOR__FRAME_TYPE__CALL_FAILED:
		on_call_failed(h, nd, (Skiff__Harbor__CallFailed *)msg);
		break;
	default:
		hconn_close(c, "unexpected frame type on a peer link");
		break;
	}
}

/* ---- frames from the master -------------------------------------------------------- */

static void bind_remote(struct harbor *h, Skiff__Harbor__NameBinding *b)
{
	if (b == NULL || b->name == NULL || b->name[0] == '\0' || strlen(b->name) > GLOBAL_NAME_MAX ||
	    b->handle == 0)
		return;
	struct name *n = name_get(h, b->name, true);
	if (n == NULL)
		return;
	if (n->handle && n->handle != b->handle && (n->handle >> 24) == (uint32_t)h->cfg.id)
		skynet_error(h->ctx, "harbor: global name %s is taken by :%08x (ours was :%08x)",
		             n->key, b->handle, n->handle);
	name_bound(h, n, b->handle);
}

static void master_record(struct harbor *h, struct hconn *c, unsigned type, ProtobufCMessage *msg)
{
	switch (type) {
	case SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE: {
		Skiff__Harbor__NodeTable *t = (Skiff__Harbor__NodeTable *)msg;
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i])
				node_member(h, t->nodes[i]->id, t->nodes[i]->incarnation, t->nodes[i]->address);
		for (size_t i = 0; i < t->n_names; i++)
			bind_remote(h, t->names[i]);
		if (!h->ready)
			skynet_error(h->ctx, "harbor: node %d ready (%zu nodes, %zu names)", h->cfg.id,
			             t->n_nodes, t->n_names);
		h->ready = true;
		wlist_wake(h, &h->ready_waiters, "ready");
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NODE_JOIN: {
		Skiff__Harbor__NodeJoin *j = (Skiff__Harbor__NodeJoin *)msg;
		if (j->node)
			node_member(h, j->node->id, j->node->incarnation, j->node->address);
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVE: {
		Skiff__Harbor__NodeLeave *l = (Skiff__Harbor__NodeLeave *)msg;
		if (l->id >= 1 && l->id < MAX_NODE && (int)l->id != h->cfg.id) {
			struct node *nd = &h->node[l->id];
			if (nd->member && (l->incarnation == 0 || l->incarnation == nd->incarnation)) {
				nd->member = false;
				char r[128];
				snprintf(r, sizeof(r), "the master says it left: %s", l->reason ? l->reason : "");
				node_down(h, nd, r);
			}
		}
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER: {
		Skiff__Harbor__NameAnswer *a = (Skiff__Harbor__NameAnswer *)msg;
		if (a->found)
			bind_remote(h, a->binding);
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW: {
		Skiff__Harbor__NameWithdraw *w = (Skiff__Harbor__NameWithdraw *)msg;
		if (w->binding && w->binding->name) {
			struct name *n = name_get(h, w->binding->name, false);
			if (n && n->handle == w->binding->handle) {
				/* still bound to one of ours: the master refused our binding */
				if ((n->handle >> 24) == (uint32_t)h->cfg.id)
					skynet_error(h->ctx, "harbor: the master refused global name %s for :%08x "
					             "(reserved for a node that is down)", n->key, n->handle);
				name_forget(h, n);
			}
		}
		break;
	}
	default:
		hconn_close(c, "unexpected frame type on the master link");
		break;
	}
}

/* ---- link callbacks --------------------------------------------------------------- */

static void announce(struct harbor *h)
{
	size_t count = 0;
	for (unsigned b = 0; b < NAME_BUCKETS; b++)
		for (struct name *n = h->names[b]; n; n = n->next)
			if (n->handle && (n->handle >> 24) == (uint32_t)h->cfg.id)
				count++;
	Skiff__Harbor__NameBinding *nb = calloc(count + 1, sizeof(*nb));
	Skiff__Harbor__NameBinding **nbp = calloc(count + 1, sizeof(*nbp));
	if (nb == NULL || nbp == NULL) {
		free(nb);
		free(nbp);
		hconn_close(h->master, "out of memory");
		return;
	}
	size_t i = 0;
	for (unsigned b = 0; b < NAME_BUCKETS; b++)
		for (struct name *n = h->names[b]; n; n = n->next)
			if (n->handle && (n->handle >> 24) == (uint32_t)h->cfg.id) {
				skiff__harbor__name_binding__init(&nb[i]);
				nb[i].name = n->key;
				nb[i].handle = n->handle;
				nbp[i] = &nb[i];
				i++;
			}
	Skiff__Harbor__NodeAnnounce a = SKIFF__HARBOR__NODE_ANNOUNCE__INIT;
	a.address = h->address;
	a.n_names = count;
	a.names = nbp;
	send_master(h, SKIFF__HARBOR__FRAME_TYPE__NODE_ANNOUNCE, &a.base);
	free(nb);
	free(nbp);
	/* ask again for every name someone is waiting for */
	for (unsigned b = 0; b < NAME_BUCKETS; b++)
		for (struct name *n = h->names[b]; n; n = n->next)
			if (n->handle == 0 && (n->q.n || n->waiters.n))
				name_ask(h, n);
}

static void on_established(void *ud, struct hconn *c)
{
	struct harbor *h = ud;
	const struct link_identity *p = hconn_peer(c);
	char why[160];
	if (c == h->master) {
		h->master_up = true;
		h->master_backoff = 0;
		announce(h);
		return;
	}
	if (p->node_id < 1 || p->node_id >= MAX_NODE || (int)p->node_id == h->cfg.id) {
		snprintf(why, sizeof(why), "node id %u is not a valid peer id", p->node_id);
		hconn_close(c, why);
		return;
	}
	struct node *nd = &h->node[p->node_id];
	struct node *expected = hconn_data(c);
	/* Only the nodes the master listed, in the incarnation it listed, are
	 * peers: a key holder cannot link as an id the master never admitted, nor
	 * as a previous or next life of a member.  A node that dials us before the
	 * master's NodeJoin for it reached us is refused once and retries.  A node
	 * the master declared down that comes back in the same incarnation (it was
	 * frozen or cut off, not restarted) is the node the master listed: it is
	 * let in, and the master lists it again when it re-announces. */
	if (nd->incarnation == 0 || nd->incarnation != p->incarnation) {
		snprintf(why, sizeof(why), "node %u incarnation %016llx is not listed by the master%s",
		         p->node_id, (unsigned long long)p->incarnation,
		         nd->member ? " (it lists another incarnation)" : "");
		if (expected) {
			hconn_set_data(c, NULL);
			if (expected->c == c)
				expected->c = NULL;
		}
		hconn_close(c, why);
		return;
	}
	if (expected && expected != nd) {
		snprintf(why, sizeof(why), "peer claims node id %u, expected %d", p->node_id, expected->id);
		hconn_set_data(c, NULL);
		if (expected->c == c)
			expected->c = NULL;
		hconn_close(c, why);
		return;
	}
	if (expected == NULL && nd->c != NULL) {
		/* an inbound link for a node we already have a link (or a dial) to */
		if (nd->state == NS_UP || (int)p->node_id < h->cfg.id) {
			snprintf(why, sizeof(why), "node %u is already live", p->node_id);
			hconn_close(c, why);
			return;
		}
		struct hconn *old = nd->c;
		hconn_set_data(old, NULL);
		hconn_close(old, "superseded by an inbound link");
	}
	if (nd->incarnation && nd->incarnation != p->incarnation && nd->state == NS_UP) {
		snprintf(why, sizeof(why), "node %u is already live", p->node_id);
		hconn_close(c, why);
		return;
	}
	nd->c = c;
	hconn_set_data(c, nd);
	nd->incarnation = p->incarnation;
	nd->state = NS_UP;
	nd->backoff = 0;
	wlist_wake(h, &nd->connect_waiters, "up");
	node_flush_pending(h, nd);
}

static void on_closed(void *ud, struct hconn *c, const char *reason)
{
	struct harbor *h = ud;
	if (c == h->master) {
		h->master = NULL;
		bool was = h->master_up;
		h->master_up = false;
		h->master_backoff = h->master_backoff ? h->master_backoff * 2 : BACKOFF_MIN;
		if (h->master_backoff > BACKOFF_MAX)
			h->master_backoff = BACKOFF_MAX;
		h->master_retry_at = hnet_now_ms() + h->master_backoff;
		if (was) {
			skynet_error(h->ctx, "harbor: master link lost (%s); reconnecting", reason);
			wlist_wake(h, &h->master_waiters, "down");
		}
		return;
	}
	const struct link_identity *p = hconn_peer(c);
	if (p && p->node_id >= 1 && p->node_id < MAX_NODE) {
		struct node *pn = &h->node[p->node_id];
		struct hconn_stats st;
		hconn_stats(c, &st);
		pn->closed.records_in += st.records_in;
		pn->closed.records_out += st.records_out;
		pn->closed.bytes_in += st.bytes_in;
		pn->closed.bytes_out += st.bytes_out;
		if (st.last_recv_ms > pn->closed.last_recv_ms)
			pn->closed.last_recv_ms = st.last_recv_ms;
		if (st.rtt_us >= 0)
			pn->closed.rtt_us = st.rtt_us;
	}
	struct node *nd = hconn_data(c);
	if (nd == NULL || nd->c != c)
		return;
	nd->c = NULL;
	if (nd->state == NS_UP)
		node_down(h, nd, reason);
}

static void on_record(void *ud, struct hconn *c, unsigned type, uint8_t *data, size_t len)
{
	struct harbor *h = ud;
	struct node *nd = NULL;
	if (c != h->master) {
		nd = hconn_data(c);
		if (nd == NULL || nd->c != c)
			return;
	}
	const ProtobufCMessageDescriptor *d = harbor_frame_descriptor(type);
	ProtobufCMessage *msg = d ? frame_decode(d, &h->arena, data, len) : NULL;
	if (msg == NULL) {
		hconn_close(c, "malformed frame");
		return;
	}
	if (nd)
		peer_record(h, c, nd, type, msg);
	else
		master_record(h, c, type, msg);
	pb_arena_reset(&h->arena);
}

static const struct hconn_ops harbor_ops = {
	.established = on_established,
	.record = on_record,
	.closed = on_closed,
};

/* ---- commands from local services ---------------------------------------------------- */

static void register_name(struct harbor *h, const char *key, uint32_t handle)
{
	struct name *n = name_get(h, key, true);
	if (n == NULL)
		return;
	/* a name whose local service exited is free even before the tick sees it */
	if (n->handle && n->handle != handle)
		name_withdraw_dead(h, n);
	if (n->handle && n->handle != handle) {
		skynet_error(h->ctx, "harbor: global name %s already registered by :%08x", key, n->handle);
		return;
	}
	name_bound(h, n, handle);
	Skiff__Harbor__NameBinding b = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameRegister r = SKIFF__HARBOR__NAME_REGISTER__INIT;
	b.name = n->key;
	b.handle = handle;
	r.binding = &b;
	send_master(h, SKIFF__HARBOR__FRAME_TYPE__NAME_REGISTER, &r.base);
}

/* ---- STATS ------------------------------------------------------------------------- */

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = t->p ? vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap) : -1;
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *p = realloc(t->p, cap);
		if (p == NULL)
			return;
		t->p = p;
		t->cap = cap;
	}
}

static const char *state_name(int state)
{
	switch (state) {
	case NS_CONNECTING: return "connecting";
	case NS_UP: return "up";
	case NS_DOWN: return "down";
	default: return "unknown";
	}
}

/* The STATS reply (documented at the top of this file). */
static void stats(struct harbor *h, uint32_t source, int session)
{
	struct text t = {0};
	uint64_t now = hnet_now_ms();
	size_t names = 0;
	for (unsigned b = 0; b < NAME_BUCKETS; b++)
		for (struct name *n = h->names[b]; n; n = n->next)
			if (n->handle)
				names++;
	text_add(&t, "self id=%d incarnation=%016llx master=%s master_addr=%s names=%zu "
	         "name_queued=%zu\n", h->cfg.id, (unsigned long long)h->incarnation,
	         h->master_up ? "up" : "down", h->master_addr, names, h->name_queued);
	for (int id = 1; id < MAX_NODE; id++) {
		struct node *nd = &h->node[id];
		struct hconn_stats st = nd->closed;
		if (nd->c && hconn_open(nd->c)) {
			struct hconn_stats cur;
			hconn_stats(nd->c, &cur);
			st.records_in += cur.records_in;
			st.records_out += cur.records_out;
			st.bytes_in += cur.bytes_in;
			st.bytes_out += cur.bytes_out;
			st.last_recv_ms = cur.last_recv_ms;
			if (cur.rtt_us >= 0)
				st.rtt_us = cur.rtt_us;
		}
		if (id == h->cfg.id || (!nd->member && nd->state == NS_UNKNOWN && st.records_in == 0 &&
		                        st.records_out == 0 && nd->calls_failed == 0 && nd->refused == 0))
			continue;
		char age[24] = "-", rtt[24] = "-";
		if (st.last_recv_ms)
			snprintf(age, sizeof(age), "%llu",
			         (unsigned long long)(now > st.last_recv_ms ? now - st.last_recv_ms : 0));
		if (st.rtt_us > 0)
			snprintf(rtt, sizeof(rtt), "%lld", (long long)st.rtt_us);
		text_add(&t, "peer id=%d addr=%s state=%s incarnation=%016llx hb_age_ms=%s rtt_us=%s "
		         "frames_out=%llu bytes_out=%llu frames_in=%llu bytes_in=%llu calls_failed=%llu "
		         "queued=%zu pending_calls=%zu refused=%llu\n",
		         id, nd->address[0] ? nd->address : "-", state_name(nd->state),
		         (unsigned long long)nd->incarnation, age, rtt,
		         (unsigned long long)st.records_out, (unsigned long long)st.bytes_out,
		         (unsigned long long)st.records_in, (unsigned long long)st.bytes_in,
		         (unsigned long long)nd->calls_failed, nd->pending.n, nd->reqs.n,
		         (unsigned long long)nd->refused);
	}
	for (unsigned b = 0; b < NAME_BUCKETS; b++)
		for (struct name *n = h->names[b]; n; n = n->next)
			if (n->handle)
				text_add(&t, "name %s :%08x\n", n->key, n->handle);
	if (t.p)
		reply(h, source, session, t.p);
	else
		skynet_send(h->ctx, 0, source, PTYPE_ERROR, session, NULL, 0);
	free(t.p);
}

static void command(struct harbor *h, uint32_t source, int session, const char *msg, size_t sz)
{
	char buf[128];
	if (sz >= sizeof(buf))
		sz = sizeof(buf) - 1;
	memcpy(buf, msg, sz);
	buf[sz] = '\0';
	char cmd[16] = "", arg[64] = "", arg2[32] = "";
	sscanf(buf, "%15s %63s %31s", cmd, arg, arg2);
	if (strcmp(cmd, "REGISTER") == 0) {
		uint32_t handle = arg2[0] == ':' ? (uint32_t)strtoul(arg2 + 1, NULL, 16) : source;
		if (arg[0] == '\0' || strlen(arg) > GLOBAL_NAME_MAX || handle == 0) {
			skynet_error(h->ctx, "harbor: bad REGISTER '%s'", buf);
			return;
		}
		if ((handle >> 24) != (uint32_t)h->cfg.id) {
			/* the master refuses it too: a node names only its own services */
			skynet_error(h->ctx, "harbor: REGISTER %s :%08x refused: a global name can only be "
			             "bound to a service of this node", arg, handle);
			if (session)
				skynet_send(h->ctx, 0, source, PTYPE_ERROR, session, NULL, 0);
			return;
		}
		register_name(h, arg, handle);
		reply(h, source, session, "ok");
	} else if (strcmp(cmd, "QUERYNAME") == 0) {
		if (arg[0] == '\0' || strlen(arg) > GLOBAL_NAME_MAX) {
			skynet_send(h->ctx, 0, source, PTYPE_ERROR, session, NULL, 0);
			return;
		}
		struct name *n = name_get(h, arg, true);
		if (n && n->handle) {
			char text[16];
			snprintf(text, sizeof(text), ":%08x", n->handle);
			reply(h, source, session, text);
		} else if (n) {
			wlist_add(&n->waiters, source, session);
			name_ask(h, n);
		}
	} else if (strcmp(cmd, "STATS") == 0) {
		stats(h, source, session);
	} else if (strcmp(cmd, "NAME") == 0) {
		struct name *n = arg[0] ? name_get(h, arg, false) : NULL;
		char text[16];
		snprintf(text, sizeof(text), ":%08x", n ? n->handle : 0);
		reply(h, source, session, text);
	} else if (strcmp(cmd, "LINK") == 0 || strcmp(cmd, "CONNECT") == 0) {
		int id = atoi(arg);
		if (id < 1 || id >= MAX_NODE || id == h->cfg.id) {
			reply(h, source, session, id == h->cfg.id ? "up" : "down");
			return;
		}
		struct node *nd = &h->node[id];
		bool up = nd->state == NS_UP;
		if (cmd[0] == 'L') {
			if (up)
				wlist_add(&nd->link_waiters, source, session);
			else
				reply(h, source, session, "down");
		} else {
			if (up)
				reply(h, source, session, "up");
			else
				wlist_add(&nd->connect_waiters, source, session);
		}
	} else if (strcmp(cmd, "LINKMASTER") == 0) {
		if (h->master_up)
			wlist_add(&h->master_waiters, source, session);
		else
			reply(h, source, session, "down");
	} else if (strcmp(cmd, "READY") == 0) {
		if (h->ready)
			reply(h, source, session, "ready");
		else
			wlist_add(&h->ready_waiters, source, session);
	} else {
		skynet_error(h->ctx, "harbor: unknown command '%s' from :%08x", buf, source);
		if (session)
			skynet_send(h->ctx, 0, source, PTYPE_ERROR, session, NULL, 0);
	}
}

/* ---- the tick ------------------------------------------------------------------------ */

static void check_names(struct harbor *h, uint64_t now)
{
	for (unsigned b = 0; b < NAME_BUCKETS; b++) {
		for (struct name *n = h->names[b]; n; n = n->next) {
			/* messages that waited too long for their name */
			while (n->q.head && n->q.head->deadline <= now) {
				struct pmsg *m = queue_pop(&n->q);
				h->name_queued--;
				skynet_error(h->ctx, "harbor: no global name %s after %llu ms: drop message "
				             "from :%08x", n->key, (unsigned long long)h->cfg.name_timeout_ms,
				             m->source);
				fail_msg(h, m->source, 0, m->type, m->session, m->msg);
				free(m);
			}
			if (n->handle == 0 && (n->q.n || n->waiters.n) && now - n->asked_at >= 1000)
				name_ask(h, n);
			if (now < h->next_name_check)
				continue;
			/* local bindings whose service exited */
			name_withdraw_dead(h, n);
		}
	}
	if (now >= h->next_name_check)
		h->next_name_check = now + NAME_CHECK_MS;
}

static void tick(struct harbor *h)
{
	hnet_tick(h->net, h->cfg.heartbeat_ms, h->cfg.timeout_ms);
	uint64_t now = hnet_now_ms();
	if (h->master == NULL && now >= h->master_retry_at) {
		struct hconn_config hc = link_config(h, LINK_INITIATOR, LINK_HARBOR_MASTER);
		h->master = hnet_connect(h->net, h->master_addr, &hc);
		if (h->master == NULL) {
			h->master_backoff = h->master_backoff ? h->master_backoff * 2 : BACKOFF_MIN;
			if (h->master_backoff > BACKOFF_MAX)
				h->master_backoff = BACKOFF_MAX;
			h->master_retry_at = now + h->master_backoff;
		}
	}
	for (int id = 1; id < MAX_NODE; id++) {
		struct node *nd = &h->node[id];
		if (nd->state == NS_CONNECTING && now >= nd->deadline && nd->pending.n) {
			size_t n = nd->pending.n;
			nd->calls_failed += fail_queue(h, &nd->pending);
			skynet_error(h->ctx, "harbor: no link to node %d within harbor_timeout: %zu queued "
			             "messages failed", id, n);
			nd->state = NS_DOWN;
		}
		if (nd->member && nd->state != NS_UP && nd->c == NULL && id < h->cfg.id &&
		    now >= nd->retry_at && nd->address[0])
			node_connect(h, nd);
	}
	check_names(h, now);
}

/* ---- service ---------------------------------------------------------------------------- */

static void flush_if_idle(struct harbor *h)
{
	if (!hnet_dirty(h->net))
		return;
	if (skynet_context_mqlen(h->ctx) == 0)
		hnet_flush(h->net);
}

static int harbor_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                     const void *msg, size_t sz)
{
	struct harbor *h = ud;
	switch (type) {
	case PTYPE_SYSTEM:
		remote_message(h, (struct remote_message *)msg, source, session);
		break;
	case PTYPE_SOCKET: {
		const struct skynet_socket_message *sm = msg;
		if (hnet_socket(h->net, sm))
			break;
		if (sm->type == SKYNET_SOCKET_TYPE_ACCEPT && sm->id == h->listen) {
			struct hconn_config hc = link_config(h, LINK_RESPONDER, LINK_HARBOR_PEER);
			const char *addr = sm->buffer ? sm->buffer : (const char *)(sm + 1);
			hnet_accept(h->net, sm->ud, addr, &hc);
		} else if (sm->type == SKYNET_SOCKET_TYPE_DATA) {
			skynet_free(sm->buffer);
		}
		break;
	}
	case PTYPE_HARBOR:
		command(h, source, session, msg, sz);
		break;
	case PTYPE_RESPONSE:
		tick(h);
		skynet_command(ctx, "TIMEOUT", "10");
		break;
	default:
		break;
	}
	hnet_reap(h->net);
	flush_if_idle(h);
	return 0;
}

struct harbor *harbor_create(void);
int harbor_init(struct harbor *h, struct skynet_context *ctx, const char *parm);
void harbor_release(struct harbor *h);

struct harbor *harbor_create(void)
{
	struct harbor *h = calloc(1, sizeof(*h));
	if (h) {
		h->listen = -1;
		for (int i = 0; i < MAX_NODE; i++)
			h->node[i].id = i;
	}
	return h;
}

int harbor_init(struct harbor *h, struct skynet_context *ctx, const char *parm)
{
	h->ctx = ctx;
	if (harbor_config_load(ctx, "harbor", &h->cfg) != 0)
		return 1;
	if (h->cfg.id < 1 || h->cfg.id > 255) {
		skynet_error(ctx, "harbor: config key 'harbor' must be 1..255 for a harbor node");
		return 1;
	}
	h->self_high = (uint32_t)h->cfg.id << 24;
	const char *address = skynet_command(ctx, "GETENV", "address");
	const char *master = skynet_command(ctx, "GETENV", "master");
	char host[64];
	int port;
	if (hnet_split_address(address, host, sizeof(host), &port) != 0) {
		skynet_error(ctx, "harbor: config key 'address' must be host:port (got '%s')",
		             address ? address : "");
		return 1;
	}
	if (hnet_split_address(master, host + 0, sizeof(host), &port) != 0) {
		skynet_error(ctx, "harbor: config key 'master' must be host:port (got '%s')",
		             master ? master : "");
		return 1;
	}
	snprintf(h->address, sizeof(h->address), "%s", address);
	const char *nq = skynet_command(ctx, "GETENV", "harbor_name_queue");
	h->name_queue_max = NAME_QUEUE_MAX;
	if (nq && nq[0]) {
		char *end;
		unsigned long long v = strtoull(nq, &end, 10);
		if (*end != '\0' || v < 1 || v > 100000000) {
			skynet_error(ctx, "harbor: config key 'harbor_name_queue' must be 1..100000000 "
			             "(got '%s')", nq);
			return 1;
		}
		h->name_queue_max = (size_t)v;
	}
	snprintf(h->master_addr, sizeof(h->master_addr), "%s", master);
	/* `address` is what peers dial; harbor_listen, when set, is what this node
	 * binds (a port mapping, NAT or relay in between makes them differ). */
	const char *bind = skynet_command(ctx, "GETENV", "harbor_listen");
	const char *bind_key = "harbor_listen";
	if (bind == NULL || bind[0] == '\0') {
		bind = address;
		bind_key = "address";
	}
	if (hnet_split_address(bind, host, sizeof(host), &port) != 0) {
		skynet_error(ctx, "harbor: config key 'harbor_listen' must be host:port (got '%s')", bind);
		return 1;
	}
	do {
		randombytes_buf(&h->incarnation, sizeof(h->incarnation));
	} while (h->incarnation == 0);
	pb_arena_init(&h->arena, NULL, 0);
	h->net = hnet_create(ctx, "harbor", &harbor_ops, h);
	if (h->net == NULL)
		return 1;
	h->listen = skynet_socket_listen(ctx, host, port, 64);
	if (h->listen < 0) {
		skynet_error(ctx, "harbor: cannot listen on %s (%s): %s", bind, bind_key, strerror(errno));
		return 1;
	}
	skynet_socket_start(ctx, h->listen);
	skynet_callback(ctx, h, harbor_cb);
	skynet_command(ctx, "REG", ".harbor");
	skynet_harbor_start(ctx);
	tick(h);
	skynet_command(ctx, "TIMEOUT", "10");
	if (bind != address)
		skynet_error(ctx, "harbor: node %d (incarnation %016llx) listening on %s, reached at %s, "
		             "master %s", h->cfg.id, (unsigned long long)h->incarnation, bind, address, master);
	else
		skynet_error(ctx, "harbor: node %d (incarnation %016llx) listening on %s, master %s",
		             h->cfg.id, (unsigned long long)h->incarnation, address, master);
	return 0;
}

void harbor_release(struct harbor *h)
{
	for (int i = 0; i < MAX_NODE; i++) {
		struct node *nd = &h->node[i];
		struct pmsg *m;
		while ((m = queue_pop(&nd->pending)) != NULL) {
			skynet_free(m->msg);
			free(m);
		}
		free(nd->reqs.slot);
		free(nd->link_waiters.v);
		free(nd->connect_waiters.v);
	}
	for (unsigned b = 0; b < NAME_BUCKETS; b++) {
		struct name *n = h->names[b];
		while (n) {
			struct name *next = n->next;
			struct pmsg *m;
			while ((m = queue_pop(&n->q)) != NULL) {
				skynet_free(m->msg);
				free(m);
			}
			free(n->waiters.v);
			free(n);
			n = next;
		}
	}
	free(h->ready_waiters.v);
	free(h->master_waiters.v);
	hnet_destroy(h->net);
	if (h->net)
		pb_arena_finish(&h->arena);
	harbor_config_wipe(&h->cfg);
	free(h);
}
