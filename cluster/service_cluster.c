/*
 * service_cluster.c — the `cluster` C service: cluster mode's transport.
 *
 * One instance per node, launched by clusterd.  It owns the listen sockets and
 * every cluster link of the node, and carries messages for callers:
 *
 *   caller --PTYPE_CLUSTER--> cluster --Request--> link --> remote cluster
 *       --PTYPE_LUA--> target --PTYPE_RESPONSE--> remote cluster --Response-->
 *       cluster --PTYPE_RESPONSE (status byte + payload)--> caller
 *
 * Policy lives in clusterd (Lua): it tells this service, in PTYPE_TEXT
 * commands, where nodes are, which names are registered and where to listen.
 *
 * Links.  Each remote node name has at most one *outbound* link, dialed on
 * demand; requests to that node and their responses use it.  A node's inbound
 * links carry requests from others and the responses to them.  So a message
 * from one service to another always travels on one link, which keeps the
 * order sent.  A link that drops, or that receives nothing for `timeout_ms`
 * (both ends send a heartbeat after `heartbeat_ms` of silence), fails every
 * call waiting on it; the next message to that node dials again.
 *
 * Scheduling on a link.  Outgoing messages are queued per local source (the
 * caller, or the service that answers a remote call).  A payload of at most
 * PART_SIZE bytes is one frame; a larger one is a first frame plus Parts.  The
 * pump serves the queues round-robin, one frame per turn, so a small message
 * of one service overtakes another service's big transfer, while each queue is
 * FIFO, so one service's messages keep their order.  Invariants:
 *   - inflight (chunk bytes sent and not acked) stays under WINDOW: a chunk is
 *     only sent while inflight < WINDOW, so the socket holds at most about a
 *     window of parts ahead of any small frame;
 *   - out_started (sizes of multi-part messages begun and not finished) never
 *     exceeds max_pending, the bound the receiver's assembly (assembly.c)
 *     enforces on the messages it has begun;
 *   - a call has an entry in `pending` from its first frame until its
 *     Response or the link's end; before its first frame it is only in a queue.
 * Small frames from an empty queue skip the queue (the hot path).
 *
 * Closing is deferred inside link callbacks: conn_fail() marks, conn_reap()
 * frees after link_feed returns.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "skynet.h"
#include "skynet_server.h"
#include "skynet_socket.h"

#include "assembly.h"
#include "cluster.pb-c.h"
#include "frame.h"
#include "credential.h"
#include "keyfile.h"
#include "link.h"
#include "link.pb-c.h"
#include "maps.h"
#include "pbarena.h"
#include "preauth.h"

#define SKIFF_CLUSTER_NO_LUA
#include "lua-cluster.h"

#define PTYPE_LUA 10
#define PTYPE_TRACE 12

#define PART_SIZE ((size_t)64 * 1024)
#define WINDOW ((size_t)1024 * 1024)
#define MAX_RECORD (PART_SIZE + 4096)
#define FLUSH_HIGH ((size_t)256 * 1024)
#define TICK_CS 10
#define ERROR_MAX 512
#define DEFAULT_MAX_MESSAGE ((size_t)64 * 1024 * 1024)

enum node_state { NODE_WAITING, NODE_UP, NODE_DOWN };

struct conn;

/* One message waiting to go out on a link (or for its node's address). */
struct outmsg {
	struct outmsg *next;
	unsigned frame;              /* SKIFF__CLUSTER__FRAME_TYPE__REQUEST or __RESPONSE */
	int kind;                    /* CLUSTER_CALL / PUSH / QUERY (requests) */
	uint32_t caller;             /* who to answer (requests) */
	int caller_session;
	uint32_t session;            /* wire session: assigned at first frame (requests) */
	uint32_t handle;             /* destination (requests), 0 when `name` is used */
	char *name;                  /* NULL or destination name */
	char *trace;                 /* NULL or trace tag */
	bool ok;                     /* responses */
	char *error;                 /* responses with ok == false */
	const uint8_t *data;
	size_t size, sent;
	uint32_t id;                 /* multi-part id once started */
	bool started;
	void *owned;                 /* skynet_free'd when the message is done */
};

struct squeue {
	uint32_t source;
	struct outmsg *head, *tail;
	struct squeue *next_active;
};

struct pend {
	uint32_t caller;
	int session;
};

/* What the first frame of an incoming multi-part message said besides its
 * payload: the meta of its assembly (assembly.h) until the last part. */
struct inmeta {
	bool response;
	int kind;
	uint32_t session;
	uint32_t handle;
	char *name, *trace, *error;
	bool ok;
};

/* A call we are executing for a remote caller. */
struct exec {
	uint32_t cid;
	uint32_t session;            /* the remote's session */
};

struct node {
	char name[CLUSTER_NODE_MAX + 1];
	enum node_state state;
	char host[256];
	int port;
	struct conn *link;           /* the outbound link, NULL when none */
	struct outmsg *parked, *parked_tail;   /* waiting for an address */
};

struct conn {
	struct cluster *cl;
	uint32_t cid;
	int sock;
	struct link *link;
	struct link_buf out;
	struct node *node;           /* outbound: the node dialed; NULL inbound */
	char addr[300];
	bool connected, established, closing, retiring, dirty;
	char reason[256];
	uint64_t last_send;
	uint32_t next_session, next_id;
	struct imap pending;         /* session -> struct pend */
	struct assembly *in_parts;   /* incoming multi-part messages */
	struct imap queues;          /* source -> struct squeue */
	struct squeue *act_head, *act_tail;
	size_t inflight, out_started;
	struct preauth_slot slot;    /* inbound, until it authenticates */
	struct conn *next;
};

struct listener {
	struct listener *next;
	int sock;
	char name[CLUSTER_NODE_MAX + 1];
	uint32_t caller;
	int session;
	bool ready;
};

struct cluster {
	struct skynet_context *ctx;
	bool has_key, has_cred;          /* shared key; per-node credential (or both) */
	uint8_t key[LINK_KEY_BYTES];
	struct link_credential cred;
	char cred_name[CRED_NAME_MAX + 1];   /* the name the credential proves */
	char self[CLUSTER_NODE_MAX + 1];
	uint64_t incarnation;
	uint64_t timeout_ms, heartbeat_ms;
	size_t max_message, max_pending;
	bool nowaiting;
	int tick_session;
	uint32_t next_cid;
	struct conn *conns;
	struct imap by_sock;         /* socket id -> conn */
	struct imap by_cid;          /* conn id -> conn */
	struct smap nodes;           /* name -> struct node */
	struct smap names;           /* registered name -> handle (as uintptr) */
	struct imap execs;           /* our session -> struct exec */
	struct listener *listeners;
	struct pb_arena arena;
	struct conn **dirty;
	size_t ndirty, dirtycap;
	struct preauth *preauth;     /* inbound connections not yet authenticated */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- answers */

static void answer(struct cluster *cl, uint32_t caller, int session, int status,
                   const void *data, size_t n)
{
	if (session == 0)
		return;
	uint8_t *buf = skynet_malloc(n + 1);
	buf[0] = (uint8_t)status;
	if (n)
		memcpy(buf + 1, data, n);
	skynet_send(cl->ctx, 0, caller, PTYPE_RESPONSE | PTYPE_TAG_DONTCOPY, session, buf, n + 1);
}

static void answer_error(struct cluster *cl, uint32_t caller, int session, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void answer_error(struct cluster *cl, uint32_t caller, int session, const char *fmt, ...)
{
	char text[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	if (session == 0) {
		skynet_error(cl->ctx, "cluster: push from :%08x dropped: %s", caller, text);
		return;
	}
	answer(cl, caller, session, CLUSTER_FAILED, text, (size_t)n);
}

static void text_reply(struct cluster *cl, uint32_t source, int session, const char *text)
{
	if (session != 0)
		skynet_send(cl->ctx, 0, source, PTYPE_RESPONSE, session, (void *)text, strlen(text));
}

/* ---------------------------------------------------------------- outmsg */

static void outmsg_free(struct outmsg *m)
{
	if (m == NULL)
		return;
	skynet_free(m->owned);
	free(m->name);
	free(m->trace);
	free(m->error);
	free(m);
}

/* A call that never got its first frame out fails; a push is dropped (logged). */
static void outmsg_fail(struct cluster *cl, struct outmsg *m, const char *why)
{
	if (m->frame == SKIFF__CLUSTER__FRAME_TYPE__REQUEST && !m->started)
		answer_error(cl, m->caller, m->kind == CLUSTER_PUSH ? 0 : m->caller_session, "%s", why);
	outmsg_free(m);
}

/* ---------------------------------------------------------------- conns */

static void mark_dirty(struct conn *c)
{
	if (c->dirty || c->out.len == 0)
		return;
	struct cluster *cl = c->cl;
	if (cl->ndirty == cl->dirtycap) {
		size_t n = cl->dirtycap ? cl->dirtycap * 2 : 16;
		struct conn **d = realloc(cl->dirty, n * sizeof(*d));
		if (d == NULL)
			return;
		cl->dirty = d;
		cl->dirtycap = n;
	}
	cl->dirty[cl->ndirty++] = c;
	c->dirty = true;
}

/* Hands the output buffer to the socket layer whole (skynet_malloc is malloc). */
static void conn_flush(struct conn *c)
{
	if (c->out.len == 0 || !c->connected)
		return;
	struct socket_sendbuffer sb = {
		.id = c->sock, .type = SOCKET_BUFFER_MEMORY, .buffer = c->out.data, .sz = c->out.len,
	};
	c->out.data = NULL;
	c->out.len = c->out.cap = 0;
	skynet_socket_sendbuffer(c->cl->ctx, &sb);
}

static void flush_dirty(struct cluster *cl, bool force)
{
	if (!force && cl->ndirty) {
		if (skynet_context_mqlen(cl->ctx) > 0) {
			/* more messages coming: batch, unless a buffer grew big */
			size_t keep = 0;
			for (size_t i = 0; i < cl->ndirty; i++) {
				struct conn *c = cl->dirty[i];
				if (c->out.len >= FLUSH_HIGH) {
					conn_flush(c);
					c->dirty = false;
				} else {
					cl->dirty[keep++] = c;
				}
			}
			cl->ndirty = keep;
			return;
		}
	}
	for (size_t i = 0; i < cl->ndirty; i++) {
		conn_flush(cl->dirty[i]);
		cl->dirty[i]->dirty = false;
	}
	cl->ndirty = 0;
}

static const char *conn_label(const struct conn *c, char *buf, size_t n)
{
	if (c->node)
		snprintf(buf, n, "node [%s] %s", c->node->name, c->addr);
	else
		snprintf(buf, n, "inbound %s%s%s", c->addr,
		         c->link && link_peer(c->link) ? " from " : "",
		         c->link && link_peer(c->link) ? link_peer(c->link)->name : "");
	return buf;
}

static void conn_fail(struct conn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	if (c->node && c->node->link == c)
		c->node->link = NULL;
}

struct fail_ctx {
	struct cluster *cl;
	const char *why;
};

static void fail_pend(void *value, void *ud)
{
	struct fail_ctx *f = ud;
	struct pend *p = value;
	answer_error(f->cl, p->caller, p->session, "%s", f->why);
	free(p);
}

static void inmeta_free(void *value)
{
	struct inmeta *m = value;
	if (m == NULL)
		return;
	free(m->name);
	free(m->trace);
	free(m->error);
	free(m);
}

static void fail_queue(void *value, void *ud)
{
	struct fail_ctx *f = ud;
	struct squeue *q = value;
	struct outmsg *m = q->head;
	while (m) {
		struct outmsg *nx = m->next;
		outmsg_fail(f->cl, m, f->why);
		m = nx;
	}
	free(q);
}

/* Frees a closed connection: fails its calls, drops its queues. */
static void conn_reap(struct conn *c)
{
	if (!c->closing)
		return;
	struct cluster *cl = c->cl;
	char label[400], why[ERROR_MAX];
	conn_label(c, label, sizeof(label));
	if (c->link && link_state(c->link) != LINK_CLOSED)
		link_close(c->link, c->reason, &c->out);
	conn_flush(c);
	if (c->sock >= 0) {
		skynet_socket_close(cl->ctx, c->sock);
		imap_take(&cl->by_sock, (uint32_t)c->sock);
	}
	if (c->node == NULL && !c->established) /* anyone can cause these: bounded */
		preauth_log_close(cl->preauth, c->addr, c->reason);
	else
		skynet_error(cl->ctx, "cluster: link %s closed: %s", label, c->reason);
	preauth_leave(cl->preauth, &c->slot);
	if (c->node)
		snprintf(why, sizeof(why), "call failed: cluster node [%s] is down (%s)", c->node->name,
		         c->reason);
	else
		snprintf(why, sizeof(why), "call failed: link closed (%s)", c->reason);
	struct fail_ctx f = { cl, why };
	imap_clear(&c->pending, fail_pend, &f);
	imap_clear(&c->queues, fail_queue, &f);
	assembly_free(c->in_parts);
	imap_take(&cl->by_cid, c->cid);
	for (struct conn **pp = &cl->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	for (size_t i = 0; i < cl->ndirty; i++) {
		if (cl->dirty[i] == c) {
			cl->dirty[i] = cl->dirty[--cl->ndirty];
			break;
		}
	}
	link_destroy(c->link);
	link_buf_free(&c->out);
	free(c);
}

/* ---------------------------------------------------------------- sending */

static bool conn_usable(const struct conn *c)
{
	return c->established && !c->closing && link_state(c->link) == LINK_ESTABLISHED;
}

static int send_frame(struct conn *c, unsigned type, const ProtobufCMessage *msg)
{
	int r = frame_send(c->link, &c->out, type, msg);
	if (r != LINK_OK) {
		conn_fail(c, link_strerror(r));
		return -1;
	}
	c->last_send = now_ms();
	mark_dirty(c);
	return 0;
}

/* Sends the next frame of m.  1: m is finished, 0: a frame went out, -1: blocked
 * by the window, -2: blocked by max_pending. */
static int send_step(struct conn *c, struct outmsg *m)
{
	struct cluster *cl = c->cl;
	bool small = m->size <= PART_SIZE;
	if (!m->started) {
		if (!small && c->inflight >= WINDOW)
			return -1;
		if (!small && c->out_started + m->size > cl->max_pending)
			return -2;
		if (m->frame == SKIFF__CLUSTER__FRAME_TYPE__REQUEST && m->kind != CLUSTER_PUSH) {
			struct pend *p = malloc(sizeof(*p));
			if (p == NULL)
				return -1;
			do {
				m->session = ++c->next_session;
			} while (m->session == 0 || imap_get(&c->pending, m->session));
			p->caller = m->caller;
			p->session = m->caller_session;
			imap_put(&c->pending, m->session, p);
		}
		size_t chunk = small ? m->size : PART_SIZE;
		if (!small) {
			do {
				m->id = ++c->next_id;
			} while (m->id == 0);
			c->out_started += m->size;
			c->inflight += chunk;
		}
		m->started = true;
		m->sent = chunk;
		ProtobufCBinaryData pl = { chunk, (uint8_t *)m->data };
		if (m->frame == SKIFF__CLUSTER__FRAME_TYPE__REQUEST) {
			Skiff__Cluster__Request r = SKIFF__CLUSTER__REQUEST__INIT;
			r.kind = (Skiff__Cluster__RequestKind)m->kind;
			r.session = m->session;
			if (m->name) {
				r.destination_case = SKIFF__CLUSTER__REQUEST__DESTINATION_NAME;
				r.name = m->name;
			} else {
				r.destination_case = SKIFF__CLUSTER__REQUEST__DESTINATION_HANDLE;
				r.handle = m->handle;
			}
			if (m->trace)
				r.trace = m->trace;
			r.total = small ? 0 : m->size;
			r.id = m->id;
			r.payload = pl;
			send_frame(c, SKIFF__CLUSTER__FRAME_TYPE__REQUEST, &r.base);
		} else {
			Skiff__Cluster__Response r = SKIFF__CLUSTER__RESPONSE__INIT;
			r.session = m->session;
			r.ok = m->ok;
			if (m->error)
				r.error = m->error;
			r.total = small ? 0 : m->size;
			r.id = m->id;
			r.payload = pl;
			send_frame(c, SKIFF__CLUSTER__FRAME_TYPE__RESPONSE, &r.base);
		}
		return small ? 1 : 0;
	}
	if (c->inflight >= WINDOW)
		return -1;
	size_t chunk = m->size - m->sent;
	if (chunk > PART_SIZE)
		chunk = PART_SIZE;
	Skiff__Cluster__Part p = SKIFF__CLUSTER__PART__INIT;
	p.id = m->id;
	p.data.len = chunk;
	p.data.data = (uint8_t *)m->data + m->sent;
	m->sent += chunk;
	p.last = m->sent == m->size;
	c->inflight += chunk;
	send_frame(c, SKIFF__CLUSTER__FRAME_TYPE__PART, &p.base);
	if (p.last) {
		c->out_started -= m->size;
		return 1;
	}
	return 0;
}

/* Serves the source queues round-robin until every head is blocked.  The first
 * queue the window blocked goes back to the front, so when acks reopen the
 * window it is served first: big transfers of different sources alternate
 * instead of the first one taking every freed slot. */
static void pump(struct conn *c)
{
	if (!conn_usable(c))
		return;
	struct squeue *first_blocked = NULL;
	bool progress = true;
	while (progress && c->act_head && !c->closing) {
		progress = false;
		struct squeue *end = c->act_tail;
		for (;;) {
			struct squeue *q = c->act_head;
			c->act_head = q->next_active;
			if (c->act_head == NULL)
				c->act_tail = NULL;
			q->next_active = NULL;
			int r = send_step(c, q->head);
			if (r >= 0)
				progress = true;
			if (r == -1 && first_blocked == NULL)
				first_blocked = q;
			if (r == 1) {
				struct outmsg *m = q->head;
				q->head = m->next;
				if (q->head == NULL)
					q->tail = NULL;
				outmsg_free(m);
			}
			bool last = q == end;
			if (q->head) {
				if (c->act_tail)
					c->act_tail->next_active = q;
				else
					c->act_head = q;
				c->act_tail = q;
			} else {
				imap_take(&c->queues, q->source);
				free(q);
			}
			if (last || c->act_head == NULL || c->closing)
				break;
		}
	}
	/* first_blocked still has work (it was blocked), so it is in the list */
	if (first_blocked && !c->closing) {
		while (c->act_head != first_blocked) {
			struct squeue *q = c->act_head;
			c->act_head = q->next_active; // NOLINT(clang-analyzer-core.NullDereference): first_blocked is in the list, so q != NULL
			q->next_active = NULL;
			c->act_tail->next_active = q;
			c->act_tail = q;
		}
	}
}

static void conn_enqueue(struct conn *c, uint32_t source, struct outmsg *m)
{
	struct squeue *q = imap_get(&c->queues, source);
	if (q == NULL && conn_usable(c) && m->size <= PART_SIZE) {
		send_step(c, m);
		outmsg_free(m);
		return;
	}
	if (q == NULL) {
		q = calloc(1, sizeof(*q));
		if (q == NULL || imap_put(&c->queues, source, q) != 0) {
			free(q);
			outmsg_fail(c->cl, m, "call failed: out of memory");
			return;
		}
		q->source = source;
		if (c->act_tail)
			c->act_tail->next_active = q;
		else
			c->act_head = q;
		c->act_tail = q;
	}
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	pump(c);
}

/* ---------------------------------------------------------------- links */

static void on_established(void *ud, struct link *l);
static void on_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len);

static struct conn *conn_new(struct cluster *cl, int sock, enum link_role role, const char *name,
                             const char *addr)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->cl = cl;
	c->sock = sock;
	c->cid = ++cl->next_cid;
	if (c->cid == 0)
		c->cid = ++cl->next_cid;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	struct link_config lc = {
		.role = role,
		.purpose = LINK_CLUSTER,
		.cluster_key = cl->has_key ? cl->key : NULL,
		.credential = cl->has_cred ? &cl->cred : NULL,
		.max_record = MAX_RECORD,
		.handshake_timeout_ms = cl->timeout_ms,
		.on_established = on_established,
		.on_record = on_record,
		.ud = c,
	};
	lc.self.node_id = 0;
	lc.self.incarnation = cl->incarnation;
	/* With a credential a node can only ever be the name it proves. */
	snprintf(lc.self.name, sizeof(lc.self.name), "%s", cl->has_cred ? cl->cred_name : name);
	c->link = link_create(&lc, now_ms());
	c->in_parts = assembly_new(cl->max_message, cl->max_pending, inmeta_free);
	if (c->link == NULL || c->in_parts == NULL) {
		link_destroy(c->link);
		assembly_free(c->in_parts);
		free(c);
		return NULL;
	}
	c->last_send = now_ms();
	imap_put(&cl->by_sock, (uint32_t)sock, c);
	imap_put(&cl->by_cid, c->cid, c);
	c->next = cl->conns;
	cl->conns = c;
	return c;
}

/* The outbound link of a node with an address, dialing if there is none. */
static struct conn *node_link(struct cluster *cl, struct node *n)
{
	if (n->link)
		return n->link;
	int sock = skynet_socket_connect(cl->ctx, n->host, n->port);
	if (sock < 0) {
		skynet_error(cl->ctx, "cluster: cannot connect to node [%s] %s:%d", n->name, n->host,
		             n->port);
		return NULL;
	}
	char addr[300];
	snprintf(addr, sizeof(addr), "%s:%d", n->host, n->port);
	struct conn *c = conn_new(cl, sock, LINK_INITIATOR, cl->self, addr);
	if (c == NULL) {
		skynet_socket_close(cl->ctx, sock);
		return NULL;
	}
	c->node = n;
	n->link = c;
	return c;
}

static void on_established(void *ud, struct link *l)
{
	struct conn *c = ud;
	const struct link_identity *peer = link_peer(l);
	if (c->node && c->cl->has_cred && strcmp(peer->name, c->node->name) != 0) {
		/* The name is proven: whoever answers at that address is another node. */
		char why[200];
		snprintf(why, sizeof(why), "peer proves to be node [%s], not [%s]", peer->name,
		         c->node->name);
		conn_fail(c, why);
		return;
	}
	if (c->node && strcmp(peer->name, c->node->name) != 0) {
		struct node *other = smap_get(&c->cl->nodes, peer->name);
		if (other && other->state == NODE_UP) {
			char why[200];
			snprintf(why, sizeof(why), "peer is node [%s], not [%s]", peer->name, c->node->name);
			conn_fail(c, why);
			return;
		}
	}
	c->established = true;
	preauth_leave(c->cl->preauth, &c->slot);
}

static void send_ack(struct conn *c, size_t n)
{
	Skiff__Cluster__Ack a = SKIFF__CLUSTER__ACK__INIT;
	a.bytes = n;
	send_frame(c, SKIFF__CLUSTER__FRAME_TYPE__ACK, &a.base);
}

static void respond(struct conn *c, uint32_t source, uint32_t session, bool ok, const char *error,
                    void *owned, const uint8_t *data, size_t size)
{
	struct outmsg *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		skynet_free(owned);
		return;
	}
	m->frame = SKIFF__CLUSTER__FRAME_TYPE__RESPONSE;
	m->session = session;
	m->ok = ok;
	m->error = error ? strdup(error) : NULL;
	m->owned = owned;
	m->data = data;
	m->size = size;
	conn_enqueue(c, source, m);
}

static void respond_error(struct conn *c, uint32_t session, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void respond_error(struct conn *c, uint32_t session, const char *fmt, ...)
{
	char text[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	respond(c, 0, session, false, text, NULL, NULL, 0);
}

/* A whole request arrived: run it here.  buf (skynet_malloc'd, size sz) is ours.
 *
 * What a peer cannot choose (the harbor service has to check these per frame;
 * here the frame has no field for them): the message type is always PTYPE_LUA
 * (PTYPE_TRACE for a trace tag, a string), so no pointer-carrying or control
 * type ever arrives; and the source is always this service (source 0 below),
 * so a peer speaks as "the cluster" and never as one of our services or
 * another node's.  A Response is matched in the pending map of the link it came
 * on, so a peer can only answer calls that were sent to it. */
static void deliver_request(struct conn *c, int kind, uint32_t session, uint32_t handle,
                            const char *name, const char *trace, uint8_t *buf, size_t sz)
{
	struct cluster *cl = c->cl;
	if (kind == CLUSTER_QUERY) {
		char q[256];
		size_t n = sz < sizeof(q) - 1 ? sz : sizeof(q) - 1;
		memcpy(q, buf, n);
		q[n] = '\0';
		skynet_free(buf);
		void *h = smap_get(&cl->names, q);
		if (h == NULL) {
			respond_error(c, session, "name not found: %s", q);
			return;
		}
		uint32_t v = (uint32_t)(uintptr_t)h;
		uint8_t *out = skynet_malloc(4);
		for (int i = 0; i < 4; i++)
			out[i] = (uint8_t)(v >> (8 * i));
		respond(c, 0, session, true, NULL, out, out, 4);
		return;
	}
	uint32_t dest = handle;
	/* A plain name (not @cluster-name, .local or :hex) is a harbor global name,
	 * as in skynet: it goes through skynet_sendname and the node's harbor. */
	const char *global = (name && name[0] != '@' && name[0] != '.' && name[0] != ':') ? name : NULL;
	if (name && !global) {
		if (name[0] == '@') {
			dest = (uint32_t)(uintptr_t)smap_get(&cl->names, name + 1);
		} else {
			dest = skynet_queryname(cl->ctx, name);
		}
		if (dest == 0) {
			skynet_free(buf);
			if (kind == CLUSTER_CALL)
				respond_error(c, session, "unknown name %s", name);
			else
				skynet_error(cl->ctx, "cluster: push to unknown name %s dropped", name);
			return;
		}
	}
	if (trace && trace[0]) {
		if (global)
			skynet_sendname(cl->ctx, 0, global, PTYPE_TRACE, 0, (void *)trace, strlen(trace));
		else
			skynet_send(cl->ctx, 0, dest, PTYPE_TRACE, 0, (void *)trace, strlen(trace));
	}
	if (kind == CLUSTER_PUSH) {
		int r = global ? skynet_sendname(cl->ctx, 0, global, PTYPE_LUA | PTYPE_TAG_DONTCOPY, 0, buf, sz)
		               : skynet_send(cl->ctx, 0, dest, PTYPE_LUA | PTYPE_TAG_DONTCOPY, 0, buf, sz);
		if (r < 0)
			skynet_error(cl->ctx, "cluster: push to invalid address %s dropped", global ? global : name ? name : "(handle)");
		return;
	}
	int s = global ? skynet_sendname(cl->ctx, 0, global, PTYPE_LUA | PTYPE_TAG_DONTCOPY | PTYPE_TAG_ALLOCSESSION,
	                                 0, buf, sz)
	               : skynet_send(cl->ctx, 0, dest, PTYPE_LUA | PTYPE_TAG_DONTCOPY | PTYPE_TAG_ALLOCSESSION,
	                             0, buf, sz);
	if (s <= 0) {
		if (global)
			respond_error(c, session, "invalid address %s", global);
		else
			respond_error(c, session, "invalid address :%08x", dest);
		return;
	}
	struct exec *e = malloc(sizeof(*e));
	if (e == NULL)
		return;
	e->cid = c->cid;
	e->session = session;
	imap_put(&cl->execs, (uint32_t)s, e);
}

/* A whole response arrived: hand it to the caller.  buf has room for the status
 * byte at [0]; the payload is buf[1..1+sz). */
static void deliver_response(struct conn *c, uint32_t session, bool ok, const char *error,
                             uint8_t *buf, size_t sz)
{
	struct cluster *cl = c->cl;
	struct pend *p = imap_take(&c->pending, session);
	if (p == NULL) {
		skynet_free(buf);
		return;
	}
	if (ok) {
		buf[0] = CLUSTER_OK;
		skynet_send(cl->ctx, 0, p->caller, PTYPE_RESPONSE | PTYPE_TAG_DONTCOPY, p->session, buf,
		            sz + 1);
	} else {
		skynet_free(buf);
		answer_error(cl, p->caller, p->session, "call failed: remote error on node [%s]: %s",
		             c->node ? c->node->name : "?", error ? error : "");
	}
	free(p);
}

static char *dupstr(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

/* The first frame of a message: whole, or the start of a multi-part one. */
static void begin_message(struct conn *c, bool response, int kind, uint32_t session,
                          uint32_t handle, const char *name, const char *trace, bool ok,
                          const char *error, uint64_t total, uint32_t id,
                          const ProtobufCBinaryData *pl)
{
	size_t off = response ? 1 : 0;
	if (total == 0) {
		uint8_t *buf = skynet_malloc(pl->len + off + 1);
		if (pl->len)
			memcpy(buf + off, pl->data, pl->len);
		if (response)
			deliver_response(c, session, ok, error, buf, pl->len);
		else
			deliver_request(c, kind, session, handle, name, trace, buf, pl->len);
		return;
	}
	struct inmeta *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		conn_fail(c, "out of memory");
		return;
	}
	m->response = response;
	m->kind = kind;
	m->session = session;
	m->handle = handle;
	m->name = dupstr(name);
	m->trace = dupstr(trace);
	m->ok = ok;
	m->error = dupstr(error);
	/* a response's status byte goes in front of its payload: headroom 1 */
	const char *why;
	if (assembly_begin(c->in_parts, id, total, off, m, pl->data, pl->len, &why) != 0) {
		inmeta_free(m);
		conn_fail(c, why);
		return;
	}
	send_ack(c, pl->len);
}

static void on_part(struct conn *c, const Skiff__Cluster__Part *p)
{
	struct assembly_msg done;
	const char *why;
	int r = assembly_part(c->in_parts, p->id, p->last, p->data.data, p->data.len, &done, &why);
	if (r < 0) {
		conn_fail(c, why);
		return;
	}
	send_ack(c, p->data.len);
	if (r == 0)
		return;
	struct inmeta *m = done.meta;
	/* the buffer is malloc'd, which is what skynet_malloc is: it is handed on
	 * with PTYPE_TAG_DONTCOPY like any other */
	if (done.buf == NULL) {
		if (m->response) {
			struct pend *pd = imap_take(&c->pending, m->session);
			if (pd) {
				answer_error(c->cl, pd->caller, pd->session,
				             "call failed: reply too large (%" PRIu64 " bytes, max %zu)",
				             done.total, c->cl->max_message);
				free(pd);
			}
		} else if (m->kind == CLUSTER_CALL) {
			respond_error(c, m->session, "request too large (%" PRIu64 " bytes, max %zu)",
			              done.total, c->cl->max_message);
		}
	} else if (m->response) {
		deliver_response(c, m->session, m->ok, m->error, done.buf, (size_t)done.total);
	} else {
		deliver_request(c, m->kind, m->session, m->handle, m->name, m->trace, done.buf,
		                (size_t)done.total);
	}
	inmeta_free(m);
}

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len)
{
	struct conn *c = ud;
	struct cluster *cl = c->cl;
	(void)l;
	if (c->closing)
		return;
	if (type == LINK_TYPE_HEARTBEAT)
		return;   /* link_last_recv() moved: that is all a heartbeat is for */
	const ProtobufCMessageDescriptor *d;
	switch (type) {
	case SKIFF__CLUSTER__FRAME_TYPE__REQUEST: d = &skiff__cluster__request__descriptor; break;
	case SKIFF__CLUSTER__FRAME_TYPE__RESPONSE: d = &skiff__cluster__response__descriptor; break;
	case SKIFF__CLUSTER__FRAME_TYPE__PART: d = &skiff__cluster__part__descriptor; break;
	case SKIFF__CLUSTER__FRAME_TYPE__ACK: d = &skiff__cluster__ack__descriptor; break;
	default:
		conn_fail(c, "unknown frame type");
		return;
	}
	ProtobufCMessage *msg = frame_decode(d, &cl->arena, data, len);
	if (msg == NULL) {
		conn_fail(c, "malformed frame");
		pb_arena_reset(&cl->arena);
		return;
	}
	switch (type) {
	case SKIFF__CLUSTER__FRAME_TYPE__REQUEST: {
		Skiff__Cluster__Request *r = (Skiff__Cluster__Request *)msg;
		const char *name = NULL;
		if (r->destination_case == SKIFF__CLUSTER__REQUEST__DESTINATION_NAME)
			name = r->name;
		int kind = r->kind == SKIFF__CLUSTER__REQUEST_KIND__PUSH    ? CLUSTER_PUSH
		           : r->kind == SKIFF__CLUSTER__REQUEST_KIND__QUERY ? CLUSTER_QUERY
		                                                             : CLUSTER_CALL;
		if (kind != CLUSTER_PUSH && r->session == 0) {
			conn_fail(c, "call without a session");
			break;
		}
		begin_message(c, false, kind, r->session, r->handle, name, r->trace, false, NULL,
		              r->total, r->id, &r->payload);
		break;
	}
	case SKIFF__CLUSTER__FRAME_TYPE__RESPONSE: {
		Skiff__Cluster__Response *r = (Skiff__Cluster__Response *)msg;
		begin_message(c, true, 0, r->session, 0, NULL, NULL, r->ok, r->error, r->total, r->id,
		              &r->payload);
		break;
	}
	case SKIFF__CLUSTER__FRAME_TYPE__PART:
		on_part(c, (Skiff__Cluster__Part *)msg);
		break;
	case SKIFF__CLUSTER__FRAME_TYPE__ACK: {
		Skiff__Cluster__Ack *a = (Skiff__Cluster__Ack *)msg;
		if (a->bytes > c->inflight) {
			conn_fail(c, "bad ack");
			break;
		}
		c->inflight -= (size_t)a->bytes;
		break;
	}
	}
	pb_arena_reset(&cl->arena);
}

/* ---------------------------------------------------------------- sockets */

static struct listener *find_listener(struct cluster *cl, int sock)
{
	for (struct listener *li = cl->listeners; li; li = li->next)
		if (li->sock == sock)
			return li;
	return NULL;
}

static void drop_listener(struct cluster *cl, struct listener *li)
{
	for (struct listener **pp = &cl->listeners; *pp; pp = &(*pp)->next) {
		if (*pp == li) {
			*pp = li->next;
			free(li);
			return;
		}
	}
}

static void on_socket(struct cluster *cl, const struct skynet_socket_message *m, size_t sz)
{
	struct conn *c = imap_get(&cl->by_sock, (uint32_t)m->id);
	struct listener *li = c ? NULL : find_listener(cl, m->id);
	const char *pad = m->buffer == NULL && sz > sizeof(*m) ? (const char *)(m + 1) : "";
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA:
		if (c && !c->closing) {
			link_feed(c->link, (uint8_t *)m->buffer, (size_t)m->ud, now_ms(), &c->out);
			mark_dirty(c);
			if (link_state(c->link) == LINK_CLOSED)
				conn_fail(c, link_reason(c->link));
			else if (c->established)
				pump(c);
			conn_reap(c);
		}
		skynet_free(m->buffer);
		break;
	case SKYNET_SOCKET_TYPE_CONNECT:
		if (li && !li->ready) {
			li->ready = true;
			char port[32];
			snprintf(port, sizeof(port), "OK %d", m->ud);
			text_reply(cl, li->caller, li->session, port);
		} else if (c && !c->connected) {
			c->connected = true;
			if (c->node) {
				link_start(c->link, &c->out);
				mark_dirty(c);
			}
		}
		break;
	case SKYNET_SOCKET_TYPE_ACCEPT:
		if (li) {
			/* admission first (preauth.h): a refused connection costs a lookup and
			 * a close; at the total limit the oldest pre-auth one makes room */
			int ns = m->ud;
			struct conn *nc = NULL;
			if (preauth_check(cl->preauth, pad))
				nc = conn_new(cl, ns, LINK_RESPONDER, li->name[0] ? li->name : cl->self, pad);
			struct preauth_slot *evict = NULL;
			if (nc && !preauth_enter(cl->preauth, &nc->slot, pad, &evict)) {
				conn_fail(nc, "refused"); /* cannot happen after preauth_check */
				conn_reap(nc);
				nc = NULL;
				ns = -1;
			}
			if (evict) {
				struct conn *old = (struct conn *)(void *)((char *)evict -
				                                             offsetof(struct conn, slot));
				conn_fail(old, "evicted: too many connections awaiting authentication");
				conn_reap(old);
			}
			if (nc == NULL) {
				if (ns >= 0)
					skynet_socket_close(cl->ctx, ns);
			} else {
				nc->connected = true;
				link_start(nc->link, &nc->out);
				mark_dirty(nc);
				skynet_socket_start(cl->ctx, ns);
			}
		}
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
		if (c) {
			if (link_state(c->link) != LINK_CLOSED)
				link_eof(c->link);
			imap_take(&cl->by_sock, (uint32_t)c->sock);
			c->sock = -1;
			c->connected = false;
			conn_fail(c, link_reason(c->link)[0] ? link_reason(c->link) : "connection closed");
			conn_reap(c);
		} else if (li) {
			drop_listener(cl, li);
		}
		break;
	case SKYNET_SOCKET_TYPE_ERROR:
		if (c) {
			char why[200];
			snprintf(why, sizeof(why), "socket error: %s", pad[0] ? pad : "unknown");
			imap_take(&cl->by_sock, (uint32_t)c->sock);
			c->sock = -1;
			c->connected = false;
			conn_fail(c, why);
			conn_reap(c);
		} else if (li) {
			if (!li->ready) {
				char why[200];
				snprintf(why, sizeof(why), "ERR %s", pad[0] ? pad : "listen failed");
				text_reply(cl, li->caller, li->session, why);
			}
			drop_listener(cl, li);
		}
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- callers */

/* Parses a PTYPE_CLUSTER message (lua-cluster.h) and routes it. */
static int on_call(struct cluster *cl, uint32_t source, int session, const void *msg, size_t sz)
{
	const uint8_t *p = msg, *end = p + sz;
	char node[CLUSTER_NODE_MAX + 1], name[256];
	uint32_t handle = 0;
	bool has_name = false;
	if (end - p < 2)
		goto bad;
	int kind = *p++;
	size_t nl = *p++;
	if (nl == 0 || nl > CLUSTER_NODE_MAX || (size_t)(end - p) < nl + 1)
		goto bad;
	memcpy(node, p, nl);
	node[nl] = '\0';
	p += nl;
	int form = *p++;
	if (form == 0) {
		if (end - p < 4)
			goto bad;
		handle = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		p += 4;
	} else {
		if (end - p < 1)
			goto bad;
		size_t n = *p++;
		if (n == 0 || (size_t)(end - p) < n)
			goto bad;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		has_name = true;
	}
	if (end - p < 2)
		goto bad;
	size_t tl = (size_t)p[0] | (size_t)p[1] << 8;
	p += 2;
	if ((size_t)(end - p) < tl)
		goto bad;
	const uint8_t *trace = p;
	p += tl;
	size_t psz = (size_t)(end - p);
	if (kind == CLUSTER_PUSH)
		session = 0;
	if (psz > cl->max_message) {
		answer_error(cl, source, session, "call failed: message too large (%zu bytes, max %zu)",
		             psz, cl->max_message);
		return 0;
	}
	struct node *n = smap_get(&cl->nodes, node);
	if (n && n->state == NODE_DOWN) {
		answer_error(cl, source, session, "call failed: cluster node [%s] is down", node);
		return 0;
	}
	if ((n == NULL || n->state == NODE_WAITING) && cl->nowaiting) {
		answer_error(cl, source, session, "call failed: cluster node [%s] is absent", node);
		return 0;
	}
	struct outmsg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return 0;
	m->frame = SKIFF__CLUSTER__FRAME_TYPE__REQUEST;
	m->kind = kind;
	m->caller = source;
	m->caller_session = session;
	m->handle = handle;
	m->name = has_name ? strdup(name) : NULL;
	if (tl) {
		m->trace = malloc(tl + 1);
		if (m->trace) {
			memcpy(m->trace, trace, tl);
			m->trace[tl] = '\0';
		}
	}
	m->owned = (void *)msg;
	m->data = p;
	m->size = psz;
	if (n == NULL) {
		n = calloc(1, sizeof(*n));
		if (n == NULL) {
			m->owned = NULL;
			outmsg_free(m);
			return 0;
		}
		snprintf(n->name, sizeof(n->name), "%s", node);
		n->state = NODE_WAITING;
		smap_put(&cl->nodes, node, n);
	}
	if (n->state == NODE_WAITING) {
		if (n->parked == NULL)
			skynet_error(cl->ctx, "cluster: waiting for cluster node [%s]", node);
		if (n->parked_tail)
			n->parked_tail->next = m;
		else
			n->parked = m;
		n->parked_tail = m;
		return 1;
	}
	struct conn *c = node_link(cl, n);
	if (c == NULL) {
		char why[200];
		snprintf(why, sizeof(why), "call failed: cluster node [%s] is down (cannot connect)", node);
		outmsg_fail(cl, m, why);
		return 1;
	}
	conn_enqueue(c, source, m);
	return 1;
bad:
	answer_error(cl, source, session, "call failed: malformed cluster request");
	return 0;
}

/* A target answered a call we ran for a remote node. */
static int on_result(struct cluster *cl, int type, uint32_t source, int session, void *msg,
                     size_t sz)
{
	struct exec *e = imap_take(&cl->execs, (uint32_t)session);
	if (e == NULL)
		return 0;
	struct conn *c = imap_get(&cl->by_cid, e->cid);
	uint32_t rs = e->session;
	free(e);
	if (c == NULL || c->closing)
		return 0;
	if (type == PTYPE_ERROR) {
		respond_error(c, rs, "service :%08x failed", source);
		return 0;
	}
	if (sz > cl->max_message) {
		respond_error(c, rs, "reply too large (%zu bytes, max %zu)", sz, cl->max_message);
		return 0;
	}
	respond(c, source, rs, true, NULL, msg, msg, sz);
	return 1;
}

/* ---------------------------------------------------------------- commands */

static void parked_release(struct cluster *cl, struct node *n)
{
	struct outmsg *m = n->parked;
	n->parked = n->parked_tail = NULL;
	while (m) {
		struct outmsg *nx = m->next;
		m->next = NULL;
		if (n->state == NODE_UP) {
			struct conn *c = node_link(cl, n);
			if (c) {
				conn_enqueue(c, m->caller, m);
			} else {
				char why[200];
				snprintf(why, sizeof(why),
				         "call failed: cluster node [%s] is down (cannot connect)", n->name);
				outmsg_fail(cl, m, why);
			}
		} else {
			char why[200];
			snprintf(why, sizeof(why), "call failed: cluster node [%s] is %s", n->name,
			         n->state == NODE_DOWN ? "down" : "absent");
			outmsg_fail(cl, m, why);
		}
		m = nx;
	}
}

static void cmd_node(struct cluster *cl, const char *name, const char *addr)
{
	struct node *n = smap_get(&cl->nodes, name);
	if (n == NULL) {
		n = calloc(1, sizeof(*n));
		if (n == NULL)
			return;
		snprintf(n->name, sizeof(n->name), "%s", name);
		n->state = NODE_WAITING;
		smap_put(&cl->nodes, name, n);
	}
	if (strcmp(addr, "false") == 0) {
		n->state = NODE_DOWN;
		if (n->link) {
			struct conn *c = n->link;
			conn_fail(c, "marked down by cluster config");
			conn_reap(c);
		}
		parked_release(cl, n);
		return;
	}
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host)) {
		skynet_error(cl->ctx, "cluster: bad address %s for node [%s]", addr, name);
		return;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	int port = atoi(colon + 1);
	if (n->state == NODE_UP && (strcmp(host, n->host) != 0 || port != n->port) && n->link) {
		/* re-point: the old link finishes what it carries, new traffic dials the new address */
		n->link->retiring = true;
		n->link = NULL;
	}
	snprintf(n->host, sizeof(n->host), "%s", host);
	n->port = port;
	n->state = NODE_UP;
	parked_release(cl, n);
}

static void cmd_listen(struct cluster *cl, uint32_t source, int session, const char *host,
                       int port, const char *name)
{
	int sock = skynet_socket_listen(cl->ctx, host, port, 128);
	if (sock < 0) {
		char why[300];
		snprintf(why, sizeof(why), "ERR cannot listen on %s:%d", host, port);
		text_reply(cl, source, session, why);
		return;
	}
	struct listener *li = calloc(1, sizeof(*li));
	if (li == NULL) {
		skynet_socket_close(cl->ctx, sock);
		text_reply(cl, source, session, "ERR out of memory");
		return;
	}
	li->sock = sock;
	li->caller = source;
	li->session = session;
	snprintf(li->name, sizeof(li->name), "%s", name && strcmp(name, "-") != 0 ? name : "");
	li->next = cl->listeners;
	cl->listeners = li;
	skynet_socket_start(cl->ctx, sock);
}

static void fail_waiting(const char *key, void *value, void *ud)
{
	struct cluster *cl = ud;
	struct node *n = value;
	(void)key;
	if (n->state == NODE_WAITING && n->parked)
		parked_release(cl, n);
}

static void on_text(struct cluster *cl, uint32_t source, int session, const char *msg, size_t sz)
{
	char line[1024];
	if (sz >= sizeof(line)) {
		text_reply(cl, source, session, "ERR command too long");
		return;
	}
	memcpy(line, msg, sz);
	line[sz] = '\0';
	char *save = NULL;
	char *cmd = strtok_r(line, " ", &save);
	char *a1 = strtok_r(NULL, " ", &save);
	char *a2 = strtok_r(NULL, " ", &save);
	char *a3 = strtok_r(NULL, " ", &save);
	if (cmd == NULL) {
		text_reply(cl, source, session, "ERR empty command");
	} else if (strcmp(cmd, "node") == 0 && a1 && a2) {
		cmd_node(cl, a1, a2);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "nowaiting") == 0 && a1) {
		cl->nowaiting = strcmp(a1, "true") == 0;
		if (cl->nowaiting)
			smap_each(&cl->nodes, fail_waiting, cl);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "register") == 0 && a1 && a2) {
		uint32_t h = (uint32_t)strtoul(a2, NULL, 10);
		smap_put(&cl->names, a1, (void *)(uintptr_t)h);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "unregister") == 0 && a1) {
		smap_take(&cl->names, a1);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "self") == 0 && a1) {
		if (cl->has_cred && strcmp(a1, cl->cred_name) != 0)
			skynet_error(cl->ctx, "cluster: this node's credential is for [%s]; it cannot "
			             "act as [%s] (peers would refuse it)", cl->cred_name, a1);
		snprintf(cl->self, sizeof(cl->self), "%s", cl->has_cred ? cl->cred_name : a1);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "listen") == 0 && a1 && a2) {
		cmd_listen(cl, source, session, a1, atoi(a2), a3);
	} else {
		text_reply(cl, source, session, "ERR unknown command");
	}
}

/* ---------------------------------------------------------------- timer */

static void heartbeat(struct conn *c, uint64_t t)
{
	Skiff__Link__Heartbeat h = SKIFF__LINK__HEARTBEAT__INIT;
	h.time_ms = t;
	send_frame(c, LINK_TYPE_HEARTBEAT, &h.base);
}

static void on_tick(struct cluster *cl)
{
	uint64_t t = now_ms();
	struct conn *c = cl->conns;
	while (c) {
		struct conn *nx = c->next;
		if (!c->closing) {
			if (link_tick(c->link, t) == LINK_CLOSED) {
				conn_fail(c, link_reason(c->link));
			} else if (c->established) {
				uint64_t silent = link_silent_ms(c->link, t, skynet_socket_read_age_ms(c->sock));
				if (silent >= cl->timeout_ms) {
					char why[100];
					snprintf(why, sizeof(why), "no data for %" PRIu64 " ms (heartbeat timeout)", silent);
					conn_fail(c, why);
				} else if (t - c->last_send >= cl->heartbeat_ms) {
					heartbeat(c, t);
				}
				if (c->retiring && c->pending.count == 0 && c->act_head == NULL)
					conn_fail(c, "node address changed");
			} else if (c->node && t - c->last_send >= cl->timeout_ms + 1000) {
				conn_fail(c, "connect timeout");
			}
		}
		conn_reap(c);
		c = nx;
	}
	flush_dirty(cl, true);
	preauth_tick(cl->preauth);
	char ti[16];
	snprintf(ti, sizeof(ti), "%d", TICK_CS);
	const char *s = skynet_command(cl->ctx, "TIMEOUT", ti);
	cl->tick_session = s ? atoi(s) : 0;
}

/* ---------------------------------------------------------------- service */

static int cluster_cb(struct skynet_context *ctx, void *ud, int type, int session,
                      uint32_t source, const void *msg, size_t sz)
{
	struct cluster *cl = ud;
	int kept = 0;
	switch (type) {
	case PTYPE_CLUSTER:
		kept = on_call(cl, source, session, msg, sz);
		break;
	case PTYPE_RESPONSE:
		if (session == cl->tick_session && source == 0) {
			on_tick(cl);
			return 0;
		}
		kept = on_result(cl, type, source, session, (void *)msg, sz);
		break;
	case PTYPE_ERROR:
		if (session != 0)
			kept = on_result(cl, type, source, session, (void *)msg, sz);
		break;
	case PTYPE_SOCKET:
		on_socket(cl, msg, sz);
		break;
	case PTYPE_TEXT:
		on_text(cl, source, session, msg, sz);
		break;
	default:
		break;
	}
	flush_dirty(cl, false);
	return kept;
}

struct cluster *cluster_create(void);
int cluster_init(struct cluster *cl, struct skynet_context *ctx, const char *parm);
void cluster_release(struct cluster *cl);

struct cluster *cluster_create(void)
{
	struct cluster *cl = calloc(1, sizeof(*cl));
	return cl;
}

static size_t env_size(struct skynet_context *ctx, const char *key, size_t def)
{
	const char *v = skynet_command(ctx, "GETENV", key);
	if (v == NULL || v[0] == '\0')
		return def;
	char *end;
	double d = strtod(v, &end);
	if (end == v || d <= 0)
		return def;
	return (size_t)d;
}

/* cluster_key (shared key) and/or cluster_pub + node_credential (per-node
 * identity, a name credential); the same keys and files as harbor mode. */
static int load_keys(struct cluster *cl, struct skynet_context *ctx)
{
	const char *keypath = skynet_command(ctx, "GETENV", "cluster_key");
	const char *pub = skynet_command(ctx, "GETENV", "cluster_pub");
	const char *cred = skynet_command(ctx, "GETENV", "node_credential");
	bool want_key = keypath && *keypath, want_pub = pub && *pub, want_cred = cred && *cred;
	char err[320];
	if (!want_key && !want_pub && !want_cred) {
		skynet_error(ctx, "cluster: config key 'cluster_pub' and 'node_credential' (per-node "
		             "identity: skiff --genkey cluster DIR, then skiff --genkey node --name "
		             "NAME ...) or 'cluster_key' (shared key, every holder trusted with "
		             "everything: skiff --genkey FILE) is required for cluster mode");
		return -1;
	}
	if (want_pub != want_cred) {
		skynet_error(ctx, "cluster: config keys 'cluster_pub' and 'node_credential' go "
		             "together; only '%s' is set", want_pub ? "cluster_pub" : "node_credential");
		return -1;
	}
	if (want_key) {
		if (keyfile_load(keypath, cl->key, err, sizeof(err)) != 0) {
			skynet_error(ctx, "cluster: %s", err);
			return -1;
		}
		cl->has_key = true;
	}
	if (want_pub) {
		struct cred_cert cert;
		if (cred_load_cluster_pub(pub, cl->cred.cluster_pub, err, sizeof(err)) != 0) {
			skynet_error(ctx, "cluster: cluster_pub: %s", err);
			return -1;
		}
		if (cred_load_node(cred, cl->cred.cluster_pub, (uint64_t)time(NULL), &cl->cred, &cert,
		                   err, sizeof(err)) != 0) {
			skynet_error(ctx, "cluster: node_credential: %s", err);
			return -1;
		}
		if (cert.node_id != 0) {
			sodium_memzero(&cl->cred, sizeof(cl->cred));
			skynet_error(ctx, "cluster: node_credential: %s is for harbor node id %u; cluster "
			             "mode needs a name credential (skiff --genkey node --name NAME ...)",
			             cred, cert.node_id);
			return -1;
		}
		snprintf(cl->cred_name, sizeof(cl->cred_name), "%s", cert.name);
		cl->has_cred = true;
	}
	return 0;
}

int cluster_init(struct cluster *cl, struct skynet_context *ctx, const char *parm)
{
	cl->ctx = ctx;
	if (sodium_init() < 0) {
		skynet_error(ctx, "cluster: libsodium initialisation failed");
		return 1;
	}
	if (load_keys(cl, ctx) != 0)
		return 1;
	const char *tv = skynet_command(ctx, "GETENV", "cluster_timeout");
	double secs = tv && tv[0] ? strtod(tv, NULL) : 5;
	if (secs <= 0)
		secs = 5;
	cl->timeout_ms = (uint64_t)(secs * 1000);
	cl->heartbeat_ms = cl->timeout_ms / 4 < 100 ? 100 : cl->timeout_ms / 4;
	cl->max_message = env_size(ctx, "cluster_max_message", DEFAULT_MAX_MESSAGE);
	cl->max_pending = env_size(ctx, "cluster_max_pending", 2 * cl->max_message);
	if (cl->max_pending < cl->max_message)
		cl->max_pending = cl->max_message;
	struct preauth_limits lim;
	if (preauth_limits_load(ctx, &lim) != 0)
		return 1;
	cl->preauth = preauth_create(ctx, "cluster", &lim);
	if (cl->preauth == NULL) {
		skynet_error(ctx, "cluster: out of memory");
		return 1;
	}
	randombytes_buf(&cl->incarnation, sizeof(cl->incarnation));
	snprintf(cl->self, sizeof(cl->self), "%s",
	         cl->has_cred ? cl->cred_name : parm && parm[0] ? parm : "noname");
	pb_arena_init(&cl->arena, NULL, 0);
	skynet_callback(ctx, cl, cluster_cb);
	char ti[16];
	snprintf(ti, sizeof(ti), "%d", TICK_CS);
	const char *s = skynet_command(ctx, "TIMEOUT", ti);
	cl->tick_session = s ? atoi(s) : 0;
	return 0;
}

static void free_node(void *value, void *ud)
{
	struct node *n = value;
	(void)ud;
	struct outmsg *m = n->parked;
	while (m) {
		struct outmsg *nx = m->next;
		outmsg_free(m);
		m = nx;
	}
	free(n);
}

static void free_exec(void *value, void *ud)
{
	(void)ud;
	free(value);
}

void cluster_release(struct cluster *cl)
{
	if (cl == NULL)
		return;
	while (cl->conns) {
		struct conn *c = cl->conns;
		conn_fail(c, "node exiting"); // NOLINT(clang-analyzer-unix.Malloc): conn_reap unlinks c before freeing it
		conn_reap(c);
	}
	while (cl->listeners)
		drop_listener(cl, cl->listeners);
	smap_clear(&cl->nodes, free_node, NULL);
	smap_clear(&cl->names, NULL, NULL);
	imap_clear(&cl->execs, free_exec, NULL);
	imap_clear(&cl->by_sock, NULL, NULL);
	imap_clear(&cl->by_cid, NULL, NULL);
	preauth_destroy(cl->preauth);
	pb_arena_finish(&cl->arena);
	free(cl->dirty);
	sodium_memzero(cl->key, sizeof(cl->key));
	sodium_memzero(&cl->cred, sizeof(cl->cred));
	free(cl);
}
