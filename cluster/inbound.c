/*
 * inbound.c — links -> local services: the frames a cluster link receives,
 * decoded, put back together when they come in parts, and delivered; and the
 * calls this node runs for remote callers, until their targets answer.
 *
 * What a peer cannot choose (the harbor service has to check these per frame;
 * here the frame has no field for them): the message type is always PTYPE_RESERVED_LUA
 * (PTYPE_TRACE for a trace tag, a string), so no pointer-carrying or control
 * type ever arrives; and the source is always this service (source 0), so a
 * peer speaks as "the cluster" and never as one of our services or another
 * node's.  A Response is matched in the pending map of the link it came on,
 * so a peer can only answer calls that were sent to it.
 *
 * Invariants:
 *   - a frame that breaks the protocol (unknown type, malformed, a part or an
 *     ack that does not fit) closes its link, and only that link;
 *   - every received chunk of a multi-part message is acknowledged once, so
 *     the sender's window (scheduler.h) reopens;
 *   - `execs` maps the session of each call we made to a local target to
 *     the link id and remote session to answer (packed in the map's value,
 *     no allocation); an answer whose link has gone is dropped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assembly.h"
#include "cluster.pb-c.h"
#include "cluster_internal.h"
#include "frame.h"
#include "skynet.h"

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

/* A call we run for a remote caller, as an `execs` value: whom to answer. */
static uint64_t exec_pack(uint32_t cid, uint32_t remote_session)
{
	return (uint64_t)cid << 32 | remote_session;
}

void inbound_meta_free(void *meta)
{
	struct inmeta *m = meta;
	if (m == NULL)
		return;
	free(m->name);
	free(m->trace);
	free(m->error);
	free(m);
}

static void send_ack(struct clink *l, size_t n)
{
	Skiff__Cluster__Ack a = SKIFF__CLUSTER__ACK__INIT;
	a.bytes = n;
	clink_send_frame(l, SKIFF__CLUSTER__FRAME_TYPE__ACK, &a.base);
}

/* ---------------------------------------------------------------- delivery */

static void deliver_query(struct clink *l, uint32_t session, uint8_t *buf, size_t sz)
{
	char q[256];
	size_t n = sz < sizeof(q) - 1 ? sz : sizeof(q) - 1;
	memcpy(q, buf, n);
	q[n] = '\0';
	skynet_free(buf);
	void *h = skynet_strmap_find(l->cl->names, q);
	if (h == NULL) {
		clink_respond_error(l, session, "name not found: %s", q);
		return;
	}
	uint32_t v = (uint32_t)(uintptr_t)h;
	uint8_t *out = skynet_malloc(4);
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(v >> (8 * i));
	clink_respond(l, 0, session, true, NULL, out, out, 4);
}

/* A whole request arrived: run it here.  buf (skynet_malloc'd, size sz) is ours. */
static void deliver_request(struct clink *l, int kind, uint32_t session, uint32_t handle, const char *name,
                            const char *trace, uint8_t *buf, size_t sz)
{
	struct cluster *cl = l->cl;
	if (kind == CLUSTER_QUERY) {
		deliver_query(l, session, buf, sz);
		return;
	}
	uint32_t dest = handle;
	/* A plain name (not @cluster-name, .local or :hex) is a harbor global name,
	 * as in skynet: it goes through skynet_sendname and the node's harbor. */
	const char *global = (name && name[0] != '@' && name[0] != '.' && name[0] != ':') ? name : NULL;
	if (name && !global) {
		if (name[0] == '@')
			dest = (uint32_t)(uintptr_t)skynet_strmap_find(cl->names, name + 1);
		else
			dest = skynet_queryname(cl->ctx, name);
		if (dest == 0) {
			skynet_free(buf);
			if (kind == CLUSTER_CALL)
				clink_respond_error(l, session, "unknown name %s", name);
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
	int type = PTYPE_RESERVED_LUA | PTYPE_TAG_DONTCOPY;
	if (kind == CLUSTER_PUSH) {
		int r = global ? skynet_sendname(cl->ctx, 0, global, type, 0, buf, sz)
		               : skynet_send(cl->ctx, 0, dest, type, 0, buf, sz);
		if (r < 0)
			skynet_error(cl->ctx, "cluster: push to invalid address %s dropped",
			             global ? global
			             : name ? name
			                    : "(handle)");
		return;
	}
	type |= PTYPE_TAG_ALLOCSESSION;
	int s = global ? skynet_sendname(cl->ctx, 0, global, type, 0, buf, sz)
	               : skynet_send(cl->ctx, 0, dest, type, 0, buf, sz);
	if (s <= 0) {
		if (global)
			clink_respond_error(l, session, "invalid address %s", global);
		else
			clink_respond_error(l, session, "invalid address :%08x", dest);
		return;
	}
	if (skynet_u64map_put(cl->execs, (uint32_t)s, exec_pack(l->cid, session)) != 0)
		clink_respond_error(l, session, "out of memory");
}

/* A whole response arrived: hand it to the caller.  buf has room for the status
 * byte at [0]; the payload is buf[1..1+sz). */
static void deliver_response(struct clink *l, uint32_t session, bool ok, const char *error, uint8_t *buf,
                             size_t sz)
{
	struct cluster *cl = l->cl;
	uint64_t p;
	if (!skynet_u64map_del(l->pending, session, &p)) {
		skynet_free(buf);
		return;
	}
	if (ok) {
		buf[0] = CLUSTER_OK;
		skynet_send(cl->ctx, 0, pend_caller(p), PTYPE_RESPONSE | PTYPE_TAG_DONTCOPY, pend_session(p),
		            buf, sz + 1);
	} else {
		skynet_free(buf);
		answer_error(cl, pend_caller(p), pend_session(p),
		             "call failed: remote error on node [%s]: %s", l->node ? l->node->name : "?",
		             error ? error : "");
	}
}

/* A target answered a call we ran for a remote node.  1: msg is kept. */
int inbound_result(struct cluster *cl, int type, uint32_t source, int session, void *msg, size_t sz)
{
	uint64_t e, lv;
	if (!skynet_u64map_del(cl->execs, (uint32_t)session, &e))
		return 0;
	uint32_t rs = (uint32_t)e;
	if (!skynet_u64map_get(cl->links, e >> 32, &lv))
		return 0;
	struct clink *l = (struct clink *)(uintptr_t)lv;
	if (hconn_closing(l->hc))
		return 0;
	if (type == PTYPE_ERROR) {
		clink_respond_error(l, rs, "service :%08x failed", source);
		return 0;
	}
	if (sz > cl->max_message) {
		clink_respond_error(l, rs, "reply too large (%zu bytes, max %zu)", sz, cl->max_message);
		return 0;
	}
	clink_respond(l, source, rs, true, NULL, msg, msg, sz);
	return 1;
}

void inbound_free(struct cluster *cl)
{
	skynet_u64map_free(cl->execs);
	cl->execs = NULL;
}

/* ---------------------------------------------------------------- frames */

static char *dupstr(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

/* The first frame of a message: whole, or the start of a multi-part one. */
static void begin_message(struct clink *l, const struct inmeta *h, uint64_t total, uint32_t id,
                          const ProtobufCBinaryData *pl)
{
	size_t off = h->response ? 1 : 0;
	if (total == 0) {
		uint8_t *buf = skynet_malloc(pl->len + off + 1);
		if (pl->len)
			memcpy(buf + off, pl->data, pl->len);
		if (h->response)
			deliver_response(l, h->session, h->ok, h->error, buf, pl->len);
		else
			deliver_request(l, h->kind, h->session, h->handle, h->name, h->trace, buf, pl->len);
		return;
	}
	struct inmeta *m = malloc(sizeof(*m));
	if (m == NULL) {
		clink_fail(l, "out of memory");
		return;
	}
	*m = *h;
	m->name = dupstr(h->name);
	m->trace = dupstr(h->trace);
	m->error = dupstr(h->error);
	/* a response's status byte goes in front of its payload: headroom 1 */
	const char *why;
	if (assembly_begin(l->in_parts, id, total, off, m, pl->data, pl->len, &why) != 0) {
		inbound_meta_free(m);
		clink_fail(l, why);
		return;
	}
	send_ack(l, pl->len);
}

static void on_part(struct clink *l, const Skiff__Cluster__Part *p)
{
	struct cluster *cl = l->cl;
	struct assembly_msg done;
	const char *why;
	int r = assembly_part(l->in_parts, p->id, p->last, p->data.data, p->data.len, &done, &why);
	if (r < 0) {
		clink_fail(l, why);
		return;
	}
	send_ack(l, p->data.len);
	if (r == 0)
		return;
	struct inmeta *m = done.meta;
	/* the buffer is malloc'd, which is what skynet_malloc is: it is handed on
	 * with PTYPE_TAG_DONTCOPY like any other */
	if (done.buf == NULL) {
		if (m->response) {
			uint64_t pd;
			if (skynet_u64map_del(l->pending, m->session, &pd))
				answer_error(cl, pend_caller(pd), pend_session(pd),
				             "call failed: reply too large (%" PRIu64 " bytes, max %zu)",
				             done.total, cl->max_message);
		} else if (m->kind == CLUSTER_CALL) {
			clink_respond_error(l, m->session, "request too large (%" PRIu64 " bytes, max %zu)",
			                    done.total, cl->max_message);
		}
	} else if (m->response) {
		deliver_response(l, m->session, m->ok, m->error, done.buf, (size_t)done.total);
	} else {
		deliver_request(l, m->kind, m->session, m->handle, m->name, m->trace, done.buf,
		                (size_t)done.total);
	}
	inbound_meta_free(m);
}

static const ProtobufCMessageDescriptor *descriptor(unsigned type)
{
	switch (type) {
	case SKIFF__CLUSTER__FRAME_TYPE__REQUEST: return &skiff__cluster__request__descriptor;
	case SKIFF__CLUSTER__FRAME_TYPE__RESPONSE: return &skiff__cluster__response__descriptor;
	case SKIFF__CLUSTER__FRAME_TYPE__PART: return &skiff__cluster__part__descriptor;
	case SKIFF__CLUSTER__FRAME_TYPE__ACK: return &skiff__cluster__ack__descriptor;
	default: return NULL;
	}
}

static void on_frame(struct clink *l, unsigned type, ProtobufCMessage *msg)
{
	switch (type) {
	case SKIFF__CLUSTER__FRAME_TYPE__REQUEST: {
		Skiff__Cluster__Request *r = (Skiff__Cluster__Request *)msg;
		struct inmeta h = { .session = r->session, .handle = r->handle, .trace = r->trace };
		if (r->destination_case == SKIFF__CLUSTER__REQUEST__DESTINATION_NAME)
			h.name = r->name;
		h.kind = r->kind == SKIFF__CLUSTER__REQUEST_KIND__PUSH    ? CLUSTER_PUSH
		         : r->kind == SKIFF__CLUSTER__REQUEST_KIND__QUERY ? CLUSTER_QUERY
		                                                          : CLUSTER_CALL;
		if (h.kind != CLUSTER_PUSH && r->session == 0) {
			clink_fail(l, "call without a session");
			return;
		}
		begin_message(l, &h, r->total, r->id, &r->payload);
		return;
	}
	case SKIFF__CLUSTER__FRAME_TYPE__RESPONSE: {
		Skiff__Cluster__Response *r = (Skiff__Cluster__Response *)msg;
		struct inmeta h = { .response = true, .session = r->session, .ok = r->ok, .error = r->error };
		begin_message(l, &h, r->total, r->id, &r->payload);
		return;
	}
	case SKIFF__CLUSTER__FRAME_TYPE__PART: on_part(l, (Skiff__Cluster__Part *)msg); return;
	case SKIFF__CLUSTER__FRAME_TYPE__ACK:
		if (sched_ack(l->out, ((Skiff__Cluster__Ack *)msg)->bytes) != 0)
			clink_fail(l, "bad ack");
		return;
	default: return;
	}
}

/* One record of the link (heartbeats are the connection layer's). */
void inbound_record(struct clink *l, unsigned type, uint8_t *data, size_t len)
{
	struct cluster *cl = l->cl;
	const ProtobufCMessageDescriptor *d = descriptor(type);
	if (d == NULL) {
		clink_fail(l, "unknown frame type");
		return;
	}
	ProtobufCMessage *msg = frame_decode(d, &cl->arena, data, len);
	if (msg == NULL)
		clink_fail(l, "malformed frame");
	else
		on_frame(l, type, msg);
	pb_arena_reset(&cl->arena);
}
