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
 *                    STATS                     reply the link table (harbor_stats.c)
 *                    STATE id                  reply node id's state as STATS names it
 *                                              (up, leaving, left, down, ...)
 *                    LEAVING reason            this node drains: tell the master and
 *                                              every peer (harbor_leave.c); reply
 *                                              "leaving"
 *                  replies are PTYPE_RESPONSE text.
 *   PTYPE_RESPONSE our periodic tick.
 *
 * This file is the service entry: the callback, the commands, the master link
 * and the tick.  The node state machine is harbor_node.c, the message path
 * harbor_data.c, the name replica harbor_names.c, the STATS text
 * harbor_stats.c; harbor_service.h is their shared state.
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
#include "skynet_server.h"
#include "skynet_socket.h"

#include "harbor_service.h"

/* ---- replies and waiters ------------------------------------------------------------ */

bool wlist_add(struct wlist *w, uint32_t source, int session)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 4;
		struct waiter *v = realloc(w->v, cap * sizeof(*v));
		if (v == NULL)
			return false;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].source = source;
	w->v[w->n].session = session;
	w->n++;
	return true;
}

void reply(struct harbor *h, uint32_t to, int session, const char *text)
{
	if (session == 0)
		return;
	skynet_send(h->ctx, 0, to, PTYPE_RESPONSE, session, (void *)text, strlen(text));
}

void wlist_wake(struct harbor *h, struct wlist *w, const char *text)
{
	for (size_t i = 0; i < w->n; i++)
		reply(h, w->v[i].source, w->v[i].session, text);
	w->n = 0;
}

void send_master(struct harbor *h, unsigned type, const ProtobufCMessage *msg)
{
	if (h->master && h->master_up && hconn_send(h->master, type, msg) != 0)
		hconn_close(h->master, "cannot send to the master");
}

/* The next retry delay after a failed dial: *backoff doubles from BACKOFF_MIN
 * to BACKOFF_MAX, and the delay is drawn in [*backoff / 2, *backoff].  The
 * draw is what keeps a crowd from retrying in step: hundreds of nodes that
 * were refused together (a master starting, its pre-auth limit per source
 * address) would otherwise come back together at every doubling. */
uint64_t backoff_next(uint64_t *backoff)
{
	*backoff = *backoff ? *backoff * 2 : BACKOFF_MIN;
	if (*backoff > BACKOFF_MAX)
		*backoff = BACKOFF_MAX;
	return *backoff / 2 + randombytes_uniform((uint32_t)(*backoff / 2) + 1);
}

struct hconn_config link_config(struct harbor *h, enum link_role role, enum link_purpose purpose)
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
	snprintf(hc.self.name, sizeof(hc.self.name), "%s", h->cfg.name);
	return hc;
}

/* ---- the master link ---------------------------------------------------------------- */

static void master_record(struct harbor *h, struct hconn *c, unsigned type, ProtobufCMessage *msg)
{
	switch (type) {
	case SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE: {
		Skiff__Harbor__NodeTable *t = (Skiff__Harbor__NodeTable *)msg;
		uint32_t spread = join_spread((int)t->n_nodes);
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i])
				node_member(h, t->nodes[i], spread);
		for (size_t i = 0; i < t->n_names; i++)
			bind_remote(h, t->names[i]);
		if (!h->ready)
			skynet_error(h->ctx, "harbor: node %d (%s) ready (%zu nodes, %zu names)", h->cfg.id,
			             h->cfg.name, t->n_nodes, t->n_names);
		h->ready = true;
		h->table_fresh = true;
		wlist_wake(h, &h->ready_waiters, "ready");
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NODE_JOIN: {
		Skiff__Harbor__NodeJoin *j = (Skiff__Harbor__NodeJoin *)msg;
		int members = 0;
		for (int id = 1; id < MAX_NODE; id++)
			members += h->node[id].member;
		if (j->node)
			node_member(h, j->node, join_spread(members));
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVE: {
		Skiff__Harbor__NodeLeave *l = (Skiff__Harbor__NodeLeave *)msg;
		if (l->id >= 1 && l->id < MAX_NODE && (int)l->id != h->cfg.id) {
			struct node *nd = &h->node[l->id];
			if (nd->member && (l->incarnation == 0 || l->incarnation == nd->incarnation)) {
				node_set_member(h, nd, false);
				char r[128];
				snprintf(r, sizeof(r), "the master says it left: %s",
				         l->reason ? l->reason : "");
				node_down(h, nd, r);
			}
		}
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING: {
		/* relayed by the master, which checked that the node said it itself */
		Skiff__Harbor__NodeLeaving *l = (Skiff__Harbor__NodeLeaving *)msg;
		if (l->id >= 1 && l->id < MAX_NODE && (int)l->id != h->cfg.id) {
			struct node *nd = &h->node[l->id];
			if (nd->member && (l->incarnation == 0 || l->incarnation == nd->incarnation))
				node_leaving(h, nd, l->reason);
		}
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER: {
		Skiff__Harbor__NameAnswer *a = (Skiff__Harbor__NameAnswer *)msg;
		if (a->found)
			bind_remote(h, a->binding);
		else
			name_unresolved(h, a);
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW: {
		Skiff__Harbor__NameWithdraw *w = (Skiff__Harbor__NameWithdraw *)msg;
		if (w->binding && w->binding->name) {
			struct name *n = name_get(h, w->binding->name, false);
			if (n && n->handle == w->binding->handle) {
				/* still bound to one of ours: the master refused our binding */
				if ((n->handle >> 24) == (uint32_t)h->cfg.id)
					skynet_error(h->ctx,
					             "harbor: the master refused global name %s for :%08x "
					             "(reserved for a node that is down)",
					             n->key, n->handle);
				name_forget(h, n);
			}
		}
		break;
	}
	default: hconn_close(c, "unexpected frame type on the master link"); break;
	}
}

static void on_established(void *ud, struct hconn *c)
{
	struct harbor *h = ud;
	if (c == h->master) {
		h->master_up = true;
		h->master_node = (int)hconn_peer(c)->node_id;
		h->master_backoff = 0;
		announce(h);
		leave_send(h, c); /* a master that restarted during our drain */
		return;
	}
	node_established(h, c);
}

static void on_closed(void *ud, struct hconn *c, const char *reason)
{
	struct harbor *h = ud;
	if (c == h->master) {
		h->master = NULL;
		bool was = h->master_up;
		h->master_up = false;
		h->table_fresh = false;
		h->master_retry_at = hnet_now_ms() + backoff_next(&h->master_backoff);
		tick_soon(h);
		if (was) {
			skynet_error(h->ctx, "harbor: master link lost (%s); reconnecting", reason);
			wlist_wake(h, &h->master_waiters, "down");
		}
		return;
	}
	node_closed(h, c, reason);
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

static void on_first_record(void *ud, struct hconn *c)
{
	struct harbor *h = ud;
	if (c != h->master)
		node_admitted(h, c);
}

static const struct hconn_ops harbor_ops = {
	.established = on_established,
	.record = on_record,
	.closed = on_closed,
	.first_record = on_first_record,
};

/* ---- commands from local services ---------------------------------------------------- */

static void command(struct harbor *h, uint32_t source, int session, const char *msg, size_t sz)
{
	char buf[128];
	if (sz >= sizeof(buf))
		sz = sizeof(buf) - 1;
	memcpy(buf, msg, sz);
	buf[sz] = '\0';
	char cmd[16] = "", arg[64] = "", arg2[32] = "";
	sscanf(buf, "%15s %63s %31s", cmd, arg, arg2);
	if (strcmp(cmd, "LEAVING") == 0) {
		/* the rest of the line is the reason, spaces included */
		const char *why = buf + strlen("LEAVING");
		while (*why == ' ')
			why++;
		leave_start(h, why);
		reply(h, source, session, "leaving");
	} else if (strcmp(cmd, "STATE") == 0) {
		int id = atoi(arg);
		if (id == h->cfg.id)
			reply(h, source, session, h->leaving ? "leaving" : "up");
		else
			reply(h, source, session,
			      id >= 1 && id < MAX_NODE ? node_state_name(&h->node[id]) : "unknown");
	} else if (strcmp(cmd, "REGISTER") == 0) {
		uint32_t handle = arg2[0] == ':' ? (uint32_t)strtoul(arg2 + 1, NULL, 16) : source;
		if (arg[0] == '\0' || strlen(arg) > GLOBAL_NAME_MAX || handle == 0) {
			skynet_error(h->ctx, "harbor: bad REGISTER '%s'", buf);
			return;
		}
		if ((handle >> 24) != (uint32_t)h->cfg.id) {
			/* the master refuses it too: a node names only its own services */
			skynet_error(h->ctx,
			             "harbor: REGISTER %s :%08x refused: a global name can only be "
			             "bound to a service of this node",
			             arg, handle);
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
			if (wlist_add(&n->waiters, source, session))
				h->name_waiters++;
			name_ask(h, n);
			tick_soon(h);
		}
	} else if (strcmp(cmd, "STATS") == 0) {
		stats(h, source, session);
	} else if (strcmp(cmd, "MEMBERS") == 0) {
		node_members(h, source, session, (uint32_t)strtoul(arg, NULL, 10));
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

/* ---- the tick and the service -------------------------------------------------------- */

/* The tick.  An idle mesh (master link up, every member linked, no name
 * awaited) needs it only for the heartbeats and silence deadlines of its
 * watched links (the master link; links with calls in flight), so it sleeps
 * until the next of those is due, at most one heartbeat period: one wake-up
 * a second on an idle node, where a fixed 250 ms period made four.
 * Anything that starts work which needs the tick (a node to link, a lost
 * master link, a message or query waiting for a name) calls tick_soon(),
 * and the tick runs every TICK_BUSY_MS while that lasts.  A peer silent for
 * harbor_timeout is declared down on the tick planned for that moment, so
 * within harbor_timeout plus the timer's 10 ms resolution.  Closing earlier
 * was tried and rejected: a node whose harbor is busy flooding ticks late,
 * so its heartbeats already come close to harbor_timeout under load
 * (multinode_flood saw 4.98 s of silence with a 5 s timeout), and every
 * millisecond taken off the threshold becomes false downs.
 *
 * One periodic timer (tick_session) re-arms itself; tick_soon adds one-off
 * timers that run a tick without re-arming, so ticks never multiply.
 * `due`: what the connection layer said it needs (hnet_tick). */
static uint64_t tick_interval(struct harbor *h, uint64_t due)
{
	/* due == 0: a handshake runs, whose deadlines are coarse; ticking it
	 * faster than TICK_BUSY_MS only costs the busiest node (the one every
	 * newcomer dials) CPU during a join storm */
	bool busy = due == 0 || h->master == NULL || !h->master_up || !h->ready || h->name_queued ||
	            h->name_waiters || node_busy(h);
	if (busy)
		return TICK_BUSY_MS;
	return due < 10 ? 10 : due;
}

static void tick_arm(struct harbor *h, uint64_t ms)
{
	char cs[24];
	snprintf(cs, sizeof(cs), "%llu", (unsigned long long)((ms + 9) / 10));
	const char *session = skynet_command(h->ctx, "TIMEOUT", cs);
	h->tick_session = session ? atoi(session) : 0;
	h->tick_at = hnet_now_ms() + ms;
}

void tick_soon(struct harbor *h)
{
	uint64_t now = hnet_now_ms();
	if (h->tick_at <= now + TICK_BUSY_MS || (h->kick_at > now && h->kick_at <= now + TICK_BUSY_MS))
		return;
	char cs[24];
	snprintf(cs, sizeof(cs), "%d", TICK_BUSY_MS / 10);
	skynet_command(h->ctx, "TIMEOUT", cs);
	h->kick_at = now + TICK_BUSY_MS;
}

/* periodic: true for the self-arming timer, which arms the next one */
static void tick(struct harbor *h, bool periodic)
{
	uint64_t due = hnet_tick(h->net, h->cfg.heartbeat_ms, h->cfg.timeout_ms);
	uint64_t next = tick_interval(h, due);
	uint64_t now = hnet_now_ms();
	if (h->master == NULL && now >= h->master_retry_at) {
		struct hconn_config hc = link_config(h, LINK_INITIATOR, LINK_HARBOR_MASTER);
		h->master = hnet_connect(h->net, h->master_addr, &hc);
		if (h->master == NULL) {
			h->master_retry_at = now + backoff_next(&h->master_backoff);
		}
	}
	node_tick(h, now);
	check_names(h, now);
	if (periodic) {
		uint64_t after = tick_interval(h, due);
		tick_arm(h, after < next ? after : next);
	}
}

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
	case PTYPE_SYSTEM: remote_message(h, (struct remote_message *)msg, source, session); break;
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
	case PTYPE_HARBOR: command(h, source, session, msg, sz); break;
	case PTYPE_RESPONSE: tick(h, session == h->tick_session); break;
	default: break;
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
		for (int i = 0; i < MAX_NODE; i++) {
			h->node[i].id = i;
			snprintf(h->node[i].name, sizeof(h->node[i].name), "node%d", i);
		}
		h->names = skynet_strmap_new();
		if (h->names == NULL) {
			free(h);
			return NULL;
		}
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
			skynet_error(ctx,
			             "harbor: config key 'harbor_name_queue' must be 1..100000000 "
			             "(got '%s')",
			             nq);
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
	h->net = hnet_new(ctx, "harbor", &harbor_ops, h);
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
	tick(h, true);
	if (bind != address)
		skynet_error(ctx,
		             "harbor: node %d (%s, incarnation %016llx) listening on %s, reached at "
		             "%s, master %s",
		             h->cfg.id, h->cfg.name, (unsigned long long)h->incarnation, bind, address,
		             master);
	else
		skynet_error(ctx, "harbor: node %d (%s, incarnation %016llx) listening on %s, master %s",
		             h->cfg.id, h->cfg.name, (unsigned long long)h->incarnation, address, master);
	return 0;
}

void harbor_release(struct harbor *h)
{
	for (int i = 0; i < MAX_NODE; i++)
		node_release(&h->node[i]);
	names_release(h);
	free(h->ready_waiters.v);
	free(h->member_waiters.v);
	free(h->master_waiters.v);
	hnet_free(h->net);
	if (h->net)
		pb_arena_finish(&h->arena);
	harbor_config_wipe(&h->cfg);
	free(h);
}
