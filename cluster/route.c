/*
 * route.c — callers -> links: where a PTYPE_CLUSTER request goes, and the
 * answers a caller gets when it cannot go there.
 *
 * A request names a node.  The node table (`nodes`, fed by clusterd's `node`
 * command) says where it is: UP with an address (the request goes to its
 * outbound link, dialed on demand), DOWN (the call fails at once), or
 * WAITING, not configured yet (the request is parked on the node, in order,
 * until clusterd gives an address or marks it down; with `nowaiting` it fails
 * at once instead).
 *
 * Invariants:
 *   - every request accepted here is answered exactly once: by its Response,
 *     or with an error from here, from the link's failure (clink.c) or from
 *     the scheduler's release of a message never sent;
 *   - a push is never answered: its failures are logged instead;
 *   - parked messages keep their order, and are released only in
 *     route_node/route_nowaiting, all of a node's at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.pb-c.h"
#include "cluster_internal.h"
#include "skynet.h"

/* ---------------------------------------------------------------- answers */

static void answer(struct cluster *cl, uint32_t caller, int session, int status, const void *data, size_t n)
{
	if (session == 0)
		return;
	uint8_t *buf = skynet_malloc(n + 1);
	buf[0] = (uint8_t)status;
	if (n)
		memcpy(buf + 1, data, n);
	skynet_send(cl->ctx, 0, caller, PTYPE_RESPONSE | PTYPE_TAG_DONTCOPY, session, buf, n + 1);
}

void answer_error(struct cluster *cl, uint32_t caller, int session, const char *fmt, ...)
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

void text_reply(struct cluster *cl, uint32_t source, int session, const char *text)
{
	if (session != 0)
		skynet_send(cl->ctx, 0, source, PTYPE_RESPONSE, session, (void *)text, strlen(text));
}

/* ---------------------------------------------------------------- outmsg */

void outmsg_free(struct outmsg *m)
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
void outmsg_fail(struct cluster *cl, struct outmsg *m, const char *why)
{
	if (m->frame == SKIFF__CLUSTER__FRAME_TYPE__REQUEST)
		answer_error(cl, m->caller, m->kind == CLUSTER_PUSH ? 0 : m->caller_session, "%s", why);
	outmsg_free(m);
}

/* ---------------------------------------------------------------- nodes */

static struct cnode *node_get(struct cluster *cl, const char *name)
{
	struct cnode *n = skynet_strmap_find(cl->nodes, name);
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->state = NODE_WAITING;
	if (skynet_strmap_put(cl->nodes, name, n) != 0) {
		free(n);
		return NULL;
	}
	return n;
}

/* Hands m to the node's outbound link (dialing if need be); n is UP. */
static void node_send(struct cluster *cl, struct cnode *n, struct outmsg *m)
{
	struct clink *l = clink_dial(cl, n);
	if (l == NULL) {
		char why[200];
		snprintf(why, sizeof(why), "call failed: cluster node [%s] is down (cannot connect)",
		         n->name);
		outmsg_fail(cl, m, why);
		return;
	}
	clink_send(l, m->caller, m);
}

static void parked_release(struct cluster *cl, struct cnode *n)
{
	struct sched_msg *sm = n->parked;
	n->parked = n->parked_tail = NULL;
	while (sm) {
		struct sched_msg *nx = sm->next;
		struct outmsg *m = (struct outmsg *)sm;
		sm->next = NULL;
		if (n->state == NODE_UP) {
			node_send(cl, n, m);
		} else {
			char why[200];
			snprintf(why, sizeof(why), "call failed: cluster node [%s] is %s", n->name,
			         n->state == NODE_DOWN ? "down" : "absent");
			outmsg_fail(cl, m, why);
		}
		sm = nx;
	}
}

/* clusterd's `node NAME ADDR`: ADDR is host:port, or "false" for down. */
void route_node(struct cluster *cl, const char *name, const char *addr)
{
	struct cnode *n = node_get(cl, name);
	if (n == NULL)
		return;
	if (strcmp(addr, "false") == 0) {
		n->state = NODE_DOWN;
		if (n->link) {
			clink_fail(n->link, "marked down by cluster config");
			hnet_reap(cl->net); /* its calls fail now, before anything new is sent */
		}
		parked_release(cl, n);
		return;
	}
	char host[256];
	int port;
	if (hnet_split_address(addr, host, sizeof(host), &port) != 0) {
		skynet_error(cl->ctx, "cluster: bad address %s for node [%s]", addr, name);
		return;
	}
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

/* Releasing parked messages changes no map, so the walk is safe. */
void route_nowaiting(struct cluster *cl, bool on)
{
	cl->nowaiting = on;
	size_t pos = 0;
	const char *name;
	void *v;
	while (on && skynet_strmap_next(cl->nodes, &pos, &name, &v)) {
		struct cnode *n = v;
		if (n->state == NODE_WAITING && n->parked)
			parked_release(cl, n);
	}
}

void route_free(struct cluster *cl)
{
	size_t pos = 0;
	const char *name;
	void *v;
	while (cl->nodes && skynet_strmap_next(cl->nodes, &pos, &name, &v)) {
		struct cnode *n = v;
		struct sched_msg *sm = n->parked;
		while (sm) {
			struct sched_msg *nx = sm->next;
			outmsg_free((struct outmsg *)sm);
			sm = nx;
		}
		free(n);
	}
	skynet_strmap_free(cl->nodes);
	skynet_strmap_free(cl->names);
	cl->nodes = cl->names = NULL;
}

/* ---------------------------------------------------------------- requests */

/* A PTYPE_CLUSTER message (cluster_msg.h) parsed; pointers into the message. */
struct request {
	int kind;
	char node[CLUSTER_NODE_MAX + 1];
	uint32_t handle;
	bool has_name;
	char name[256];
	const uint8_t *trace;
	size_t trace_len;
	const uint8_t *payload;
	size_t size;
};

static int parse(struct request *r, const uint8_t *p, size_t sz)
{
	const uint8_t *end = p + sz;
	if (end - p < 2)
		return -1;
	r->kind = *p++;
	size_t nl = *p++;
	if (nl == 0 || nl > CLUSTER_NODE_MAX || (size_t)(end - p) < nl + 1)
		return -1;
	memcpy(r->node, p, nl);
	r->node[nl] = '\0';
	p += nl;
	int form = *p++;
	if (form == 0) {
		if (end - p < 4)
			return -1;
		r->handle =
			(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		p += 4;
	} else {
		if (end - p < 1)
			return -1;
		size_t n = *p++;
		if (n == 0 || (size_t)(end - p) < n)
			return -1;
		memcpy(r->name, p, n);
		r->name[n] = '\0';
		p += n;
		r->has_name = true;
	}
	if (end - p < 2)
		return -1;
	r->trace_len = (size_t)p[0] | (size_t)p[1] << 8;
	p += 2;
	if ((size_t)(end - p) < r->trace_len)
		return -1;
	r->trace = p;
	p += r->trace_len;
	r->payload = p;
	r->size = (size_t)(end - p);
	return 0;
}

/* Returns 1 when msg is kept (it travels as the payload), 0 when the caller frees it. */
int route_call(struct cluster *cl, uint32_t source, int session, const void *msg, size_t sz)
{
	struct request r = { 0 };
	if (parse(&r, msg, sz) != 0) {
		answer_error(cl, source, session, "call failed: malformed cluster request");
		return 0;
	}
	if (r.kind == CLUSTER_PUSH)
		session = 0;
	if (r.size > cl->max_message) {
		answer_error(cl, source, session, "call failed: message too large (%zu bytes, max %zu)",
		             r.size, cl->max_message);
		return 0;
	}
	struct cnode *n = skynet_strmap_find(cl->nodes, r.node);
	if (n && n->state == NODE_DOWN) {
		answer_error(cl, source, session, "call failed: cluster node [%s] is down", r.node);
		return 0;
	}
	if ((n == NULL || n->state == NODE_WAITING) && cl->nowaiting) {
		answer_error(cl, source, session, "call failed: cluster node [%s] is absent", r.node);
		return 0;
	}
	if (n == NULL && (n = node_get(cl, r.node)) == NULL) {
		answer_error(cl, source, session, "call failed: out of memory");
		return 0;
	}
	struct outmsg *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		answer_error(cl, source, session, "call failed: out of memory");
		return 0;
	}
	m->frame = SKIFF__CLUSTER__FRAME_TYPE__REQUEST;
	m->kind = r.kind;
	m->caller = source;
	m->caller_session = session;
	m->handle = r.handle;
	m->name = r.has_name ? strdup(r.name) : NULL;
	if (r.trace_len && (m->trace = malloc(r.trace_len + 1)) != NULL) {
		memcpy(m->trace, r.trace, r.trace_len);
		m->trace[r.trace_len] = '\0';
	}
	m->owned = (void *)msg;
	m->base.data = r.payload;
	m->base.size = r.size;
	if (n->state == NODE_WAITING) {
		if (n->parked == NULL)
			skynet_error(cl->ctx, "cluster: waiting for cluster node [%s]", r.node);
		if (n->parked_tail)
			n->parked_tail->next = &m->base;
		else
			n->parked = &m->base;
		n->parked_tail = &m->base;
		return 1;
	}
	node_send(cl, n, m);
	return 1;
}
