/*
 * service_harbor_master.c — the C service `harbor_master`: membership and the
 * global name registry of a harbor cluster.  It runs on the node whose config
 * sets `standalone` (the listen address) and speaks only HARBOR_MASTER links.
 *
 * Protocol (frames of harbor.proto, node N <-> master M):
 *     N -> M  NodeAnnounce   first frame; the link proved N's id and incarnation
 *     M -> N  NodeTable      every live node and every global name
 *     M -> *  NodeJoin       to the others
 *     N -> M  NameRegister   first registration wins; M answers NameAnswer to all
 *                            (or the winning binding to N alone on a conflict,
 *                            or NameWithdraw to N alone when it is refused)
 *     N -> M  NameQuery      M answers NameAnswer{found} to N
 *     N -> M  NameWithdraw   M drops the name and forwards NameWithdraw to all
 *     N -> M  NodeLeaving    N drains; M relays it to all and lists N as
 *                            leaving in later NodeTables (only for N itself)
 *     M -> *  NodeLeave      N's link dropped or went silent; receivers forget
 *                            N's names themselves (no per-name withdraw is sent)
 *
 * Policy: an id outside 1..255 or one whose node is live is refused (logged with
 * the peer address); a link that does not announce within harbor_timeout is
 * closed, so nothing holds an id without joining.  A node that restarts after its old link died rejoins with
 * a new incarnation.  A restarted master knows nothing: the nodes reconnect and
 * their NodeAnnounce rebuild both tables (first binding seen wins).
 *
 * Names: a node binds names only to its own services (nonzero handle whose
 * high byte is its id); anything else is refused, counted and logged (one
 * line per second per node), and the node is sent NameWithdraw for it.  When a
 * node leaves, its names stop resolving but stay reserved for its id: another
 * node cannot take them, the node's next incarnation binds them again.  Only
 * a withdraw (the service exited) frees a name for everybody.  Who may claim
 * an id at all is the handshake's business: with per-node credentials only
 * the holder of that id's credential; with the shared key, any key holder.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harbor.pb-c.h"
#include "harbor_config.h"
#include "harbor_frame.h"
#include "name_registry.h"
#include "peer.h"
#include "skynet.h"
#include "skynet_socket.h"

#define MAX_NODE 256

struct mnode {
	struct hconn *c; /* NULL: not live */
	bool announced;
	uint64_t since_ms; /* when the link came up: NodeAnnounce is due by since + timeout */
	uint64_t incarnation;
	char address[128];
	char name[LINK_NAME_MAX + 1];
	bool leaving; /* it said it drains (NodeLeaving): listed as leaving to joiners */
	char leave_reason[64];
};

struct master {
	struct skynet_context *ctx;
	struct harbor_config cfg;
	struct hnet *net;
	struct pb_arena arena;
	int listen;
	uint64_t incarnation;
	struct mnode node[MAX_NODE];
	struct name_registry names;
	uint64_t refused[MAX_NODE];        /* bad registrations per node id */
	uint64_t refused_log_at[MAX_NODE]; /* when the last line about them was logged */
};

static int node_of(struct hconn *c)
{
	return (int)(intptr_t)hconn_data(c);
}

_Static_assert(GLOBAL_NAME_BYTES == GLOBAL_NAME_MAX, "one limit for global names");

/* ---- sending -------------------------------------------------------------------- */

static void send_to(struct master *m, int id, unsigned type, const ProtobufCMessage *msg)
{
	struct mnode *n = &m->node[id];
	if (n->c && n->announced && hconn_send(n->c, type, msg) != 0)
		hconn_close(n->c, "cannot send to node (frame too big for the master link?)");
}

static void broadcast(struct master *m, int except, unsigned type, const ProtobufCMessage *msg)
{
	for (int id = 1; id < MAX_NODE; id++)
		if (id != except)
			send_to(m, id, type, msg);
}

static void answer(struct master *m, int to, const struct name_entry *b, const char *name)
{
	Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameAnswer a = SKIFF__HARBOR__NAME_ANSWER__INIT;
	if (b && b->handle == 0) {
		a.reserved_for = (uint32_t)b->owner; /* reserved for a node that is down */
		if (b->owner >= 1 && b->owner < MAX_NODE && m->node[b->owner].name[0])
			a.reserved_name = m->node[b->owner].name;
		b = NULL;
	}
	nb.name = (char *)(b ? b->name : name);
	nb.handle = b ? b->handle : 0;
	a.binding = &nb;
	a.found = b != NULL;
	if (to > 0)
		send_to(m, to, SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER, &a.base);
	else
		broadcast(m, 0, SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER, &a.base);
}

static void fill_info(struct master *m, int id, Skiff__Harbor__NodeInfo *info)
{
	skiff__harbor__node_info__init(info);
	info->id = (uint32_t)id;
	info->name = m->node[id].name;
	info->incarnation = m->node[id].incarnation;
	info->address = m->node[id].address;
	info->leaving = m->node[id].leaving;
}

static void send_table(struct master *m, int to)
{
	Skiff__Harbor__NodeInfo info[MAX_NODE];
	Skiff__Harbor__NodeInfo *infop[MAX_NODE];
	size_t n = 0;
	for (int id = 1; id < MAX_NODE; id++) {
		if (m->node[id].c && m->node[id].announced) {
			fill_info(m, id, &info[n]);
			infop[n] = &info[n];
			n++;
		}
	}
	const struct name_registry *r = &m->names;
	size_t count = name_registry_count(r);
	Skiff__Harbor__NameBinding *nb = calloc(count + 1, sizeof(*nb));
	Skiff__Harbor__NameBinding **nbp = calloc(count + 1, sizeof(*nbp));
	if (nb == NULL || nbp == NULL) {
		free(nb);
		free(nbp);
		hconn_close(m->node[to].c, "master out of memory");
		return;
	}
	size_t bound = 0, pos = 0;
	const struct name_entry *e;
	while ((e = name_registry_next(r, &pos)) != NULL) {
		if (e->handle == 0)
			continue; /* reserved for a node that left */
		skiff__harbor__name_binding__init(&nb[bound]);
		nb[bound].name = (char *)e->name;
		nb[bound].handle = e->handle;
		nbp[bound] = &nb[bound];
		bound++;
	}
	Skiff__Harbor__NodeTable t = SKIFF__HARBOR__NODE_TABLE__INIT;
	t.n_nodes = n;
	t.nodes = infop;
	t.n_names = bound;
	t.names = nbp;
	send_to(m, to, SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE, &t.base);
	free(nb);
	free(nbp);
}

/* ---- frames from nodes ------------------------------------------------------------ */

/* Node `id` asked for a binding it may not have: nothing changes, the node
 * is told to drop the binding it made locally, and one line per second per
 * node says so. */
static void refuse_binding(struct master *m, int id, const Skiff__Harbor__NameBinding *b, const char *why)
{
	m->refused[id]++;
	uint64_t now = hnet_now_ms();
	if (m->refused_log_at[id] == 0 || now - m->refused_log_at[id] >= 1000) {
		m->refused_log_at[id] = now;
		skynet_error(m->ctx,
		             "harbor master: refused name %s -> :%08x from node %d (%s): %s "
		             "(%llu refused from it in all)",
		             b->name && name_registry_valid(b->name) ? b->name : "?", b->handle, id,
		             m->node[id].c ? hconn_addr(m->node[id].c) : "-", why,
		             (unsigned long long)m->refused[id]);
	}
	if (b->name && name_registry_valid(b->name) && b->handle) {
		Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
		Skiff__Harbor__NameWithdraw w = SKIFF__HARBOR__NAME_WITHDRAW__INIT;
		nb.name = b->name;
		nb.handle = b->handle;
		w.binding = &nb;
		send_to(m, id, SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW, &w.base);
	}
}

/* Node `id` binds a global name (NameRegister, or a name in its NodeAnnounce);
 * the rules are name_registry.h's. */
static void bind_name(struct master *m, int id, Skiff__Harbor__NameBinding *b)
{
	const struct name_entry *e;
	const char *why;
	switch (name_registry_bind(&m->names, id, b, &e, &why)) {
	case NAME_BOUND: answer(m, -1, e, NULL); break;
	case NAME_TAKEN:
		answer(m, id, e, NULL); /* first registration wins */
		break;
	case NAME_REFUSED: {
		char text[96];
		Skiff__Harbor__NameBinding none = SKIFF__HARBOR__NAME_BINDING__INIT;
		if (e) {
			snprintf(text, sizeof(text), "the name belongs to node %d, which is down", e->owner);
			why = text;
		}
		refuse_binding(m, id, b ? b : &none, why);
		break;
	}
	}
}

static void on_announce(struct master *m, int id, Skiff__Harbor__NodeAnnounce *a)
{
	struct mnode *n = &m->node[id];
	snprintf(n->address, sizeof(n->address), "%s", a->address ? a->address : "");
	n->announced = true;
	for (size_t i = 0; i < a->n_names; i++)
		bind_name(m, id, a->names[i]);
	/* The others first: the newcomer dials them as soon as it has the
	 * table, and a node that has not heard of it yet refuses its link ("not
	 * listed by the master"), which costs a redial and, on a crowded host,
	 * looked like a peer going down during a mass join. */
	Skiff__Harbor__NodeInfo info;
	fill_info(m, id, &info);
	Skiff__Harbor__NodeJoin j = SKIFF__HARBOR__NODE_JOIN__INIT;
	j.node = &info;
	broadcast(m, id, SKIFF__HARBOR__FRAME_TYPE__NODE_JOIN, &j.base);
	hnet_flush(m->net);
	send_table(m, id);
	skynet_error(m->ctx, "harbor master: node %d (%s) joined (%s, incarnation %016llx, %zu names)", id,
	             n->name, n->address, (unsigned long long)n->incarnation, a->n_names);
}

static void on_withdraw(struct master *m, int id, Skiff__Harbor__NameWithdraw *w)
{
	Skiff__Harbor__NameBinding *b = w->binding;
	if (!name_registry_withdraw(&m->names, id, b))
		return;
	Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameWithdraw out = SKIFF__HARBOR__NAME_WITHDRAW__INIT;
	nb.name = b->name;
	nb.handle = b->handle;
	out.binding = &nb;
	broadcast(m, 0, SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW, &out.base);
}

/* Node `id` says it drains.  A node speaks only for itself: a NodeLeaving
 * naming another id (or another incarnation) changes nothing and is logged
 * like a refused binding.  The names of a leaving node keep resolving (see
 * docs/operations.md, "Draining a node"): its services still answer, and a
 * global name has no other holder to send newcomers to. */
static void on_leaving(struct master *m, int id, Skiff__Harbor__NodeLeaving *l)
{
	struct mnode *n = &m->node[id];
	if (l->id != (uint32_t)id || (l->incarnation != 0 && l->incarnation != n->incarnation)) {
		m->refused[id]++;
		uint64_t now = hnet_now_ms();
		if (m->refused_log_at[id] == 0 || now - m->refused_log_at[id] >= 1000) {
			m->refused_log_at[id] = now;
			skynet_error(
				m->ctx,
				"harbor master: refused NodeLeaving for node %u (incarnation %016llx) from "
				"node %d (%s): a node can only say that it itself is leaving (%llu refused "
				"from it in all)",
				l->id, (unsigned long long)l->incarnation, id, hconn_addr(n->c),
				(unsigned long long)m->refused[id]);
		}
		return;
	}
	if (n->leaving)
		return;
	n->leaving = true;
	size_t i = 0;
	for (const char *r = l->reason ? l->reason : ""; *r && i + 1 < sizeof(n->leave_reason); r++)
		n->leave_reason[i++] = (*r >= 0x20 && *r < 0x7f) ? *r : '?';
	n->leave_reason[i] = '\0';
	Skiff__Harbor__NodeLeaving out = SKIFF__HARBOR__NODE_LEAVING__INIT;
	out.id = (uint32_t)id;
	out.incarnation = n->incarnation;
	out.reason = n->leave_reason;
	broadcast(m, id, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING, &out.base);
	skynet_error(m->ctx, "harbor master: node %d (%s) is leaving (it drains: %s)", id, n->name,
	             n->leave_reason);
}

static void on_record(void *ud, struct hconn *c, unsigned type, uint8_t *data, size_t len)
{
	struct master *m = ud;
	int id = node_of(c);
	if (id <= 0 || m->node[id].c != c)
		return;
	const ProtobufCMessageDescriptor *d = harbor_frame_descriptor(type);
	ProtobufCMessage *msg = d ? frame_decode(d, &m->arena, data, len) : NULL;
	if (msg == NULL) {
		hconn_close(c, "malformed frame");
		return;
	}
	if (!m->node[id].announced && type != SKIFF__HARBOR__FRAME_TYPE__NODE_ANNOUNCE) {
		hconn_close(c, "the first frame must be NodeAnnounce");
	} else {
		switch (type) {
		case SKIFF__HARBOR__FRAME_TYPE__NODE_ANNOUNCE:
			if (m->node[id].announced)
				hconn_close(c, "NodeAnnounce sent twice");
			else
				on_announce(m, id, (Skiff__Harbor__NodeAnnounce *)msg);
			break;
		case SKIFF__HARBOR__FRAME_TYPE__NAME_REGISTER:
			bind_name(m, id, ((Skiff__Harbor__NameRegister *)msg)->binding);
			break;
		case SKIFF__HARBOR__FRAME_TYPE__NAME_QUERY: {
			Skiff__Harbor__NameQuery *q = (Skiff__Harbor__NameQuery *)msg;
			if (q->name && name_registry_valid(q->name))
				answer(m, id, name_registry_entry(&m->names, q->name), q->name);
			break;
		}
		case SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW:
			on_withdraw(m, id, (Skiff__Harbor__NameWithdraw *)msg);
			break;
		case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING:
			on_leaving(m, id, (Skiff__Harbor__NodeLeaving *)msg);
			break;
		default: hconn_close(c, "unexpected frame type on a master link"); break;
		}
	}
	pb_arena_reset(&m->arena);
}

static void on_established(void *ud, struct hconn *c)
{
	struct master *m = ud;
	const struct link_identity *p = hconn_peer(c);
	char why[128];
	if (p->node_id < 1 || p->node_id >= MAX_NODE) {
		snprintf(why, sizeof(why), "node id %u out of range 1..255", p->node_id);
		hconn_close(c, why);
		return;
	}
	struct mnode *n = &m->node[p->node_id];
	if (n->c) {
		snprintf(why, sizeof(why), "node %u is already live (incarnation %016llx)", p->node_id,
		         (unsigned long long)n->incarnation);
		hconn_close(c, why);
		return;
	}
	memset(n, 0, sizeof(*n));
	n->c = c;
	n->since_ms = hnet_now_ms();
	n->incarnation = p->incarnation;
	/* its harbor_name, from the handshake; it travels with the node table */
	if (harbor_node_name_valid(p->name))
		snprintf(n->name, sizeof(n->name), "%s", p->name);
	else
		snprintf(n->name, sizeof(n->name), "node%u", p->node_id);
	hconn_set_data(c, (void *)(intptr_t)p->node_id);
}

static void on_closed(void *ud, struct hconn *c, const char *reason)
{
	struct master *m = ud;
	int id = node_of(c);
	if (id <= 0 || m->node[id].c != c)
		return;
	struct mnode *n = &m->node[id];
	bool announced = n->announced;
	uint64_t inc = n->incarnation;
	n->c = NULL;
	n->announced = false;
	if (!announced)
		return;
	/* Its names stop resolving (every node drops them on NodeLeave) but stay
	 * reserved for this id: its next incarnation gets them back. */
	name_registry_node_left(&m->names, id);
	Skiff__Harbor__NodeLeave l = SKIFF__HARBOR__NODE_LEAVE__INIT;
	l.id = (uint32_t)id;
	l.incarnation = inc;
	char why[160];
	if (n->leaving)
		snprintf(why, sizeof(why), "it drained (%s); %s", n->leave_reason, reason);
	else
		snprintf(why, sizeof(why), "%s", reason);
	l.reason = why;
	broadcast(m, id, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVE, &l.base);
	skynet_error(m->ctx, "harbor master: node %d (%s) left: %s", id, n->name, why);
}

static const struct hconn_ops master_ops = {
	.established = on_established,
	.record = on_record,
	.closed = on_closed,
};

/* ---- service ----------------------------------------------------------------------- */

static struct hconn_config link_config(struct master *m)
{
	struct hconn_config hc = {
		.role = LINK_RESPONDER,
		.purpose = LINK_HARBOR_MASTER,
		.cluster_key = harbor_config_key(&m->cfg),
		.credential = harbor_config_cred(&m->cfg),
		.max_record = HARBOR_MASTER_MAX_RECORD,
		.handshake_ms = m->cfg.timeout_ms,
	};
	/* The master speaks as the node that hosts it: with credentials it proves
	 * that id (nodes accept any valid credential for the master link). */
	hc.self.node_id = (uint32_t)m->cfg.id;
	hc.self.incarnation = m->incarnation;
	snprintf(hc.self.name, sizeof(hc.self.name), "master");
	return hc;
}

/* Every half heartbeat period, at most 250 ms (the default): all the master
 * does on its own is heartbeats and deadlines measured in harbor_timeout, so
 * a silent node is declared down within harbor_timeout + 250 ms (see the
 * harbor service's tick for why not earlier). */
static void tick(struct master *m)
{
	uint64_t period = m->cfg.heartbeat_ms / 2;
	if (period > 250)
		period = 250;
	if (period < 10)
		period = 10;
	hnet_tick(m->net, m->cfg.heartbeat_ms, m->cfg.timeout_ms);
	/* A link that holds an id without joining would keep that id from its real
	 * node forever ("already live"): it must announce within harbor_timeout. */
	uint64_t now = hnet_now_ms();
	for (int id = 1; id < MAX_NODE; id++) {
		struct mnode *n = &m->node[id];
		if (n->c && !n->announced && now - n->since_ms >= m->cfg.timeout_ms)
			hconn_close(n->c, "no NodeAnnounce within harbor_timeout");
	}
	char cs[24];
	snprintf(cs, sizeof(cs), "%llu", (unsigned long long)((period + 9) / 10));
	skynet_command(m->ctx, "TIMEOUT", cs);
}

static int master_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                     const void *msg, size_t sz)
{
	struct master *m = ud;
	switch (type) {
	case PTYPE_SOCKET: {
		const struct skynet_socket_message *sm = msg;
		if (hnet_socket(m->net, sm))
			break;
		if (sm->type == SKYNET_SOCKET_TYPE_ACCEPT && sm->id == m->listen) {
			struct hconn_config hc = link_config(m);
			const char *addr = sm->buffer ? sm->buffer : (const char *)(sm + 1);
			hnet_accept(m->net, sm->ud, addr, &hc);
		} else if (sm->type == SKYNET_SOCKET_TYPE_DATA) {
			skynet_free(sm->buffer);
		}
		break;
	}
	case PTYPE_RESPONSE: tick(m); break;
	default: break;
	}
	hnet_reap(m->net);
	if (hnet_dirty(m->net))
		hnet_flush(m->net);
	return 0;
}

struct master *harbor_master_create(void);
int harbor_master_init(struct master *m, struct skynet_context *ctx, const char *parm);
void harbor_master_release(struct master *m);

struct master *harbor_master_create(void)
{
	struct master *m = calloc(1, sizeof(*m));
	if (m)
		m->listen = -1;
	return m;
}

int harbor_master_init(struct master *m, struct skynet_context *ctx, const char *parm)
{
	m->ctx = ctx;
	if (harbor_config_load(ctx, "harbor master", &m->cfg) != 0)
		return 1;
	const char *standalone = skynet_command(ctx, "GETENV", "standalone");
	char host[64];
	int port;
	if (hnet_split_address(standalone, host, sizeof(host), &port) != 0) {
		skynet_error(ctx, "harbor master: config key 'standalone' must be host:port (got '%s')",
		             standalone ? standalone : "");
		return 1;
	}
	randombytes_buf(&m->incarnation, sizeof(m->incarnation));
	pb_arena_init(&m->arena, NULL, 0);
	m->net = hnet_new(ctx, "harbor master", &master_ops, m);
	if (m->net == NULL)
		return 1;
	m->listen = skynet_socket_listen(ctx, host, port, 64);
	if (m->listen < 0) {
		skynet_error(ctx, "harbor master: cannot listen on %s: %s", standalone, strerror(errno));
		return 1;
	}
	skynet_socket_start(ctx, m->listen);
	skynet_callback(ctx, m, master_cb);
	skynet_command(ctx, "REG", ".harbor_master");
	skynet_command(ctx, "TIMEOUT", "10");
	skynet_error(ctx, "harbor master: listening on %s", standalone);
	return 0;
}

void harbor_master_release(struct master *m)
{
	hnet_free(m->net);
	if (m->net)
		pb_arena_finish(&m->arena);
	harbor_config_wipe(&m->cfg);
	name_registry_free(&m->names);
	free(m);
}
