/*
 * harbor_data.c — the harbor service's message path: messages for another
 * node's services (or for a global name) leave as Data frames on that node's
 * link; Data and CallFailed frames from peers are checked and delivered.
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
 * Invariants: the runtime owns every message handed to us (skynet.h), so each
 * path below either passes it on or frees it, exactly once; a request gets
 * exactly one answer (its reply, PTYPE_ERROR from fail_msg, or the node-down
 * sweep of harbor_node.c, which empties `reqs`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harbor_frame.h"
#include "skynet_handle.h"
#include "skynet_server.h"

#include "harbor_service.h"

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

size_t req_count(const struct node *nd)
{
	return nd->reqs ? skynet_u64map_count(nd->reqs) : 0;
}

static void req_put(struct harbor *h, struct node *nd, uint64_t key, uint32_t dest)
{
	if ((nd->reqs == NULL && (nd->reqs = skynet_u64map_new()) == NULL) ||
	    skynet_u64map_put(nd->reqs, key, dest) != 0)
		skynet_error(h->ctx,
		             "harbor: out of memory: a call to node %d will not fail if the node "
		             "goes down",
		             nd->id);
}

static void req_del(struct node *nd, uint64_t key)
{
	if (nd->reqs)
		skynet_u64map_del(nd->reqs, key, NULL);
}

/* A call failed: PTYPE_ERROR to `to` for `session`, as if from `from`, with
 * the reason as its payload (skynet.call raises "call failed: <reason>"). */
void send_error(struct harbor *h, uint32_t from, uint32_t to, int session, const char *reason)
{
	skynet_send(h->ctx, from, to, PTYPE_ERROR, session, (void *)reason, reason ? strlen(reason) : 0);
}

/* The message (source -> dest) cannot be delivered: free it and, for a request,
 * tell the sender with PTYPE_ERROR as if dest had answered, saying why. */
void fail_msg(struct harbor *h, uint32_t source, uint32_t dest, int type, int session, void *msg,
              const char *reason)
{
	skynet_free(msg);
	if (is_request(type, session) && source != 0)
		send_error(h, dest ? dest : source, source, session, reason);
}

/* Fails every message of q with the same reason; returns how many were requests. */
size_t fail_queue(struct harbor *h, struct skynet_fifo *q, const char *reason)
{
	size_t requests = 0;
	struct pmsg m;
	while (pmsg_pop(q, &m)) {
		if (is_request(m.type, m.session))
			requests++;
		fail_msg(h, m.source, m.dest, m.type, m.session, m.msg, reason);
	}
	return requests;
}

/* Why a send to nd fails at once (nd is down or not a member). */
static void down_reason(const struct node *nd, char *buf, size_t size)
{
	if (nd->left)
		snprintf(buf, size, "node %d (%s) left the cluster (it drained: %s)", nd->id, nd->name,
		         nd->leave_reason);
	else if (nd->state == NS_DOWN)
		snprintf(buf, size, "node %d (%s) is down", nd->id, nd->name);
	else if (nd->incarnation)
		snprintf(buf, size, "node %d (%s) is down (it left the cluster)", nd->id, nd->name);
	else
		snprintf(buf, size, "node %d is not a member of the cluster", nd->id);
}

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
		char why[160];
		snprintf(why, sizeof(why), "cannot send to node %d (%s): %s", nd->id, nd->name,
		         link_strerror(rc));
		skynet_error(h->ctx, "harbor: cannot send to :%08x from :%08x (%zu bytes): %s", dest, source,
		             sz, why);
		fail_msg(h, source, dest, type, session, msg, why);
		return;
	}
	skynet_free(msg);
	if (is_request(type, session)) {
		req_put(h, nd, req_key(source, session), dest);
		hconn_watch(nd->c, true); /* an answer is due: its silence matters now */
	}
}

void send_handle(struct harbor *h, uint32_t source, uint32_t dest, int type, int session, void *msg,
                 size_t sz)
{
	int id = (int)(dest >> 24);
	if (id == h->cfg.id) {
		if (skynet_send(h->ctx, source, dest, type | PTYPE_TAG_DONTCOPY, session, msg, sz) < 0 &&
		    is_request(type, session))
			send_error(h, dest, source, session, "no such service on this node");
		return;
	}
	char why[160];
	if (sz > h->cfg.max_message) {
		snprintf(why, sizeof(why), "message of %zu bytes is over harbor_max_message (%zu)", sz,
		         h->cfg.max_message);
		skynet_error(h->ctx,
		             "harbor: message of %zu bytes to :%08x from :%08x is over "
		             "harbor_max_message (%zu)",
		             sz, dest, source, h->cfg.max_message);
		fail_msg(h, source, dest, type, session, msg, why);
		return;
	}
	struct node *nd = &h->node[id];
	switch (nd->state) {
	case NS_UP: send_data(h, nd, source, dest, type, session, msg, sz); return;
	case NS_CONNECTING:
		if (nd->c == NULL && nd->retry_at && nd->backoff == 0) {
			nd->retry_at = 0; /* a first dial spread over a join: now */
			tick_soon(h);
		}
		if (pmsg_count(nd->pending) < PENDING_MAX) {
			struct pmsg m = {
				.source = source,
				.dest = dest,
				.type = type,
				.session = session,
				.msg = msg,
				.sz = sz,
			};
			if (pmsg_push(&nd->pending, &m) == 0)
				return;
		}
		snprintf(why, sizeof(why), "the queue for node %d (%s), still connecting, is full", id,
		         nd->name);
		skynet_error(h->ctx, "harbor: drop message to :%08x: %s", dest, why);
		break;
	default:
		if (is_request(type, session))
			nd->calls_failed++;
		down_reason(nd, why, sizeof(why));
		break;
	}
	fail_msg(h, source, dest, type, session, msg, why);
}

void remote_message(struct harbor *h, struct remote_message *rm, uint32_t source, int session)
{
	int type = rm->type;
	void *msg = (void *)rm->message;
	const char *refused = harbor_type_refused(type, h->cfg.remote_debug);
	if (refused) {
		uint64_t quiet;
		if (ratelog_ok(&h->local_only_log, hnet_now_ms(), &quiet))
			skynet_error(h->ctx,
			             "harbor: refused a type %d message from :%08x to another node: "
			             "%s (%llu more refused since the last such line)",
			             type, source, refused, (unsigned long long)quiet);
		fail_msg(h, source, rm->destination.handle, type, session, msg, refused);
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
		fail_msg(h, source, 0, type, session, msg, "not a valid global name (1..15 bytes)");
		return;
	}
	send_name(h, source, key, type, session, msg, rm->sz);
}

static void send_call_failed(struct node *nd, uint32_t from, uint32_t to, int session, const char *reason)
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
static void refuse(struct harbor *h, struct node *nd, const char *what, const char *why, uint32_t source,
                   uint32_t dest, int type)
{
	nd->refused++;
	uint64_t quiet;
	if (ratelog_ok(&nd->refused_log, hnet_now_ms(), &quiet))
		skynet_error(h->ctx,
		             "harbor: refused %s from node %d (%s): %s (type %d, :%08x -> :%08x; "
		             "%llu refused in all, %llu since the last line)",
		             what, nd->id, nd->c ? hconn_addr(nd->c) : "-", why, type, source, dest,
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
		refuse(h, nd, "a message", "its source is not a service of that node", d->source, named,
		       type);
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
		req_del(nd, req_key(dest, session));
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
		if (skynet_send(h->ctx, d->source, dest, type | PTYPE_TAG_DONTCOPY, session, payload, sz) >=
		    0)
			return;
		why = "no such service";
	}
	skynet_error(h->ctx, "harbor: cannot deliver to :%08x from :%08x (type %d): %s", dest, d->source,
	             type, why);
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
	req_del(nd, req_key(f->destination, (int)f->session));
	if ((f->destination >> 24) != (uint32_t)h->cfg.id)
		return;
	/* the peer's words reach the caller's error message: printable ASCII only,
	 * bounded */
	char why[224];
	int n = snprintf(why, sizeof(why), "node %d (%s): ", nd->id, nd->name);
	size_t i = n > 0 ? (size_t)n : 0;
	for (const char *r = f->reason ? f->reason : ""; *r && i + 1 < sizeof(why); r++)
		why[i++] = (*r >= 0x20 && *r < 0x7f) ? *r : '?';
	why[i] = '\0';
	send_error(h, f->source, f->destination, (int)f->session, why);
}

void peer_record(struct harbor *h, struct hconn *c, struct node *nd, unsigned type, ProtobufCMessage *msg)
{
	switch (type) {
	case SKIFF__HARBOR__FRAME_TYPE__DATA: on_data(h, nd, (Skiff__Harbor__Data *)msg); break;
	case SKIFF__HARBOR__FRAME_TYPE__CALL_FAILED:
		on_call_failed(h, nd, (Skiff__Harbor__CallFailed *)msg);
		break;
	case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING: {
		/* a node speaks only for itself: the id (and incarnation) must be
		 * the ones this link proved */
		Skiff__Harbor__NodeLeaving *l = (Skiff__Harbor__NodeLeaving *)msg;
		if (l->id != (uint32_t)nd->id || (l->incarnation != 0 && l->incarnation != nd->incarnation)) {
			char why[128];
			snprintf(why, sizeof(why),
			         "a node can only say that it itself is leaving (it named node %u, "
			         "incarnation %016llx)",
			         l->id, (unsigned long long)l->incarnation);
			refuse(h, nd, "a NodeLeaving", why, 0, 0, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING);
			break;
		}
		node_leaving(h, nd, l->reason);
		break;
	}
	default: hconn_close(c, "unexpected frame type on a peer link"); break;
	}
}
