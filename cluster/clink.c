/*
 * clink.c — one cluster link: an hconn of the shared connection layer
 * (link/peer.h) plus what cluster mode keeps per link: its outgoing scheduler,
 * the calls waiting for a Response, the multi-part messages coming in.
 *
 * The connection layer does the socket work (batching, deferred close,
 * handshake deadlines, heartbeats, the silence timeout, pre-auth admission);
 * this file is the policy on top: who a peer may be, how a scheduled frame is
 * encoded, and what a closed link's callers are told.
 *
 * Invariants (and those of cluster_internal.h):
 *   - an outbound clink is made with its dial, an inbound one only when the
 *     peer authenticates, so an unauthenticated connection costs the
 *     connection layer's few hundred bytes and nothing here;
 *   - hconn_data(hc) is the clink from then until clink_closed frees it;
 *   - clink_closed runs once per clink (the connection layer's `closed`),
 *     after which no frame of it is emitted or received;
 *   - the scheduler opens only once the peer's identity is accepted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assembly.h"
#include "cluster.pb-c.h"
#include "cluster_internal.h"
#include "skynet.h"

static const struct sched_ops clink_sched_ops;

struct hconn_config clink_config(const struct cluster *cl, enum link_role role, const char *name)
{
	struct hconn_config hc = {
		.role = role,
		.purpose = LINK_CLUSTER,
		.cluster_key = cl->has_key ? cl->key : NULL,
		.credential = cl->has_cred ? &cl->cred : NULL,
		.max_record = MAX_RECORD,
		.handshake_ms = cl->timeout_ms,
	};
	hc.self.node_id = 0;
	hc.self.incarnation = cl->incarnation;
	/* With a credential a node can only ever be the name it proves. */
	snprintf(hc.self.name, sizeof(hc.self.name), "%s", cl->has_cred ? cl->cred_name : name);
	return hc;
}

static struct clink *clink_new(struct cluster *cl, struct hconn *hc, struct cnode *node)
{
	struct clink *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->cl = cl;
	l->hc = hc;
	l->node = node;
	do {
		l->cid = ++cl->next_cid;
	} while (l->cid == 0 || skynet_u64map_get(cl->links, l->cid, NULL));
	struct sched_limits lim = { PART_SIZE, WINDOW, cl->max_pending };
	l->out = sched_new(&lim, &clink_sched_ops, l);
	l->in_parts = assembly_new(cl->max_message, cl->max_pending, inbound_meta_free);
	l->pending = skynet_u64map_new();
	if (l->out == NULL || l->in_parts == NULL || l->pending == NULL ||
	    skynet_u64map_put(cl->links, l->cid, (uintptr_t)l) != 0) {
		sched_free(l->out);
		assembly_free(l->in_parts);
		skynet_u64map_free(l->pending);
		free(l);
		return NULL;
	}
	hconn_set_data(hc, l);
	return l;
}

/* The outbound link of a node with an address, dialing if there is none. */
struct clink *clink_dial(struct cluster *cl, struct cnode *n)
{
	if (n->link && !hconn_closing(n->link->hc))
		return n->link;
	n->link = NULL;
	char addr[300];
	snprintf(addr, sizeof(addr), "%s:%d", n->host, n->port);
	struct hconn_config cfg = clink_config(cl, LINK_INITIATOR, cl->self);
	struct hconn *hc = hnet_connect(cl->net, addr, &cfg);
	if (hc == NULL)
		return NULL;
	struct clink *l = clink_new(cl, hc, n);
	if (l == NULL) {
		hconn_close(hc, "out of memory");
		return NULL;
	}
	n->link = l;
	return l;
}

static void set_why(struct clink *l, const char *reason)
{
	if (l->node)
		snprintf(l->why, sizeof(l->why), "call failed: cluster node [%s] is down (%s)", l->node->name,
		         reason);
	else
		snprintf(l->why, sizeof(l->why), "call failed: link closed (%s)", reason);
}

void clink_fail(struct clink *l, const char *reason)
{
	if (!hconn_closing(l->hc))
		set_why(l, reason);
	hconn_close(l->hc, reason);
	if (l->node && l->node->link == l)
		l->node->link = NULL;
}

/* ---------------------------------------------------------------- sending */

int clink_send_frame(struct clink *l, unsigned type, const ProtobufCMessage *msg)
{
	int rc = hconn_send(l->hc, type, msg);
	if (rc != LINK_OK) {
		clink_fail(l, link_strerror(rc));
		return -1;
	}
	return 0;
}

void clink_send(struct clink *l, uint32_t source, struct outmsg *m)
{
	if (sched_enqueue(l->out, source, &m->base) != 0)
		outmsg_fail(l->cl, m, "call failed: out of memory");
}

void clink_respond(struct clink *l, uint32_t source, uint32_t session, bool ok, const char *error,
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
	m->base.data = data;
	m->base.size = size;
	clink_send(l, source, m);
}

void clink_respond_error(struct clink *l, uint32_t session, const char *fmt, ...)
{
	char text[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	clink_respond(l, 0, session, false, text, NULL, NULL, 0);
}

/* The first frame of m: a Request or Response, whole or the start of a
 * multi-part message.  A call gets its wire session and pending entry here. */
static int emit_first(struct clink *l, struct outmsg *m, size_t len)
{
	ProtobufCBinaryData pl = { len, (uint8_t *)m->base.data };
	uint64_t total = m->base.id ? m->base.size : 0;
	if (m->frame == SKIFF__CLUSTER__FRAME_TYPE__RESPONSE) {
		Skiff__Cluster__Response r = SKIFF__CLUSTER__RESPONSE__INIT;
		r.session = m->session;
		r.ok = m->ok;
		r.error = m->error;
		r.total = total;
		r.id = m->base.id;
		r.payload = pl;
		return clink_send_frame(l, SKIFF__CLUSTER__FRAME_TYPE__RESPONSE, &r.base);
	}
	bool call = m->kind != CLUSTER_PUSH;
	if (call) {
		do {
			m->session = ++l->next_session;
		} while (m->session == 0 || skynet_u64map_get(l->pending, m->session, NULL));
		if (skynet_u64map_put(l->pending, m->session, pend_pack(m->caller, m->caller_session)) != 0) {
			clink_fail(l, "out of memory");
			return -1;
		}
	}
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
	r.trace = m->trace;
	r.total = total;
	r.id = m->base.id;
	r.payload = pl;
	if (clink_send_frame(l, SKIFF__CLUSTER__FRAME_TYPE__REQUEST, &r.base) == 0)
		return 0;
	/* not sent: the scheduler releases m unstarted, and that answers the caller */
	if (call)
		skynet_u64map_del(l->pending, m->session, NULL);
	return -1;
}

static int emit(void *ud, struct sched_msg *sm, size_t off, size_t len)
{
	struct clink *l = ud;
	if (off == 0)
		return emit_first(l, (struct outmsg *)sm, len);
	Skiff__Cluster__Part p = SKIFF__CLUSTER__PART__INIT;
	p.id = sm->id;
	p.data.len = len;
	p.data.data = (uint8_t *)sm->data + off;
	p.last = off + len == sm->size;
	return clink_send_frame(l, SKIFF__CLUSTER__FRAME_TYPE__PART, &p.base);
}

static void release(void *ud, struct sched_msg *sm, bool done)
{
	struct clink *l = ud;
	struct outmsg *m = (struct outmsg *)sm;
	if (!done && sm->sent == 0 && sm->id == 0)
		outmsg_fail(l->cl, m, l->why[0] ? l->why : "call failed: link closed");
	else
		outmsg_free(m);
}

static const struct sched_ops clink_sched_ops = { emit, release };

/* ---------------------------------------------------------------- connection callbacks */

static void on_established(void *ud, struct hconn *hc)
{
	struct cluster *cl = ud;
	struct clink *l = hconn_data(hc);
	const struct link_identity *peer = hconn_peer(hc);
	if (l && l->node && strcmp(peer->name, l->node->name) != 0) {
		char why[200];
		struct cnode *other = skynet_strmap_find(cl->nodes, peer->name);
		if (cl->has_cred) {
			/* The name is proven: whoever answers at that address is another node. */
			snprintf(why, sizeof(why), "peer proves to be node [%s], not [%s]", peer->name,
			         l->node->name);
			clink_fail(l, why);
			return;
		}
		if (other && other->state == NODE_UP) {
			snprintf(why, sizeof(why), "peer is node [%s], not [%s]", peer->name, l->node->name);
			clink_fail(l, why);
			return;
		}
	}
	if (l == NULL && (l = clink_new(cl, hc, NULL)) == NULL) {
		hconn_close(hc, "out of memory");
		return;
	}
	sched_open(l->out);
}

static void on_record(void *ud, struct hconn *hc, unsigned type, uint8_t *data, size_t len)
{
	struct clink *l = hconn_data(hc);
	(void)ud;
	if (l)
		inbound_record(l, type, data, len);
}

/* Fails every call the link carried and frees it. */
static void clink_drop(struct clink *l, const char *reason)
{
	struct cluster *cl = l->cl;
	set_why(l, reason);
	if (l->node && l->node->link == l)
		l->node->link = NULL;
	size_t pos = 0;
	uint64_t session, v;
	while (skynet_u64map_next(l->pending, &pos, &session, &v))
		answer_error(cl, pend_caller(v), pend_session(v), "%s", l->why);
	skynet_u64map_free(l->pending);
	sched_free(l->out);
	assembly_free(l->in_parts);
	if (cl->links)
		skynet_u64map_del(cl->links, l->cid, NULL);
	hconn_set_data(l->hc, NULL);
	free(l);
}

static void on_closed(void *ud, struct hconn *hc, const char *reason)
{
	struct clink *l = hconn_data(hc);
	(void)ud;
	if (l)
		clink_drop(l, reason);
}

static void label(void *ud, const struct hconn *hc, char *buf, size_t size)
{
	const struct clink *l = hconn_data(hc);
	const struct link_identity *peer = hconn_peer(hc);
	(void)ud;
	if (l && l->node)
		snprintf(buf, size, "node [%s] %s", l->node->name, hconn_addr(hc));
	else
		snprintf(buf, size, "inbound %s%s%s", hconn_addr(hc), peer ? " from " : "",
		         peer ? peer->name : "");
}

const struct hconn_ops clink_ops = { on_established, on_record, on_closed, label, NULL };

/* ---------------------------------------------------------------- timer, exit */

/* After hnet_tick: a link whose node moved closes once it carries nothing
 * (clink_fail changes no map: the walk is safe). */
void clink_tick(struct cluster *cl)
{
	size_t pos = 0;
	uint64_t cid, v;
	while (skynet_u64map_next(cl->links, &pos, &cid, &v)) {
		struct clink *l = (struct clink *)(uintptr_t)v;
		if (l->retiring && skynet_u64map_count(l->pending) == 0 && sched_idle(l->out) &&
		    !hconn_closing(l->hc))
			clink_fail(l, "node address changed");
	}
}

/* The service is going away: fail every call still waiting on a link.  The
 * map is taken away first, so clink_drop has nothing to remove from it. */
void clink_free_all(struct cluster *cl, const char *why)
{
	struct skynet_u64map *links = cl->links;
	cl->links = NULL;
	size_t pos = 0;
	uint64_t cid, v;
	while (links && skynet_u64map_next(links, &pos, &cid, &v))
		clink_drop((struct clink *)(uintptr_t)v, why);
	skynet_u64map_free(links);
}
