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
 *                            (or the winning binding to N alone on a conflict)
 *     N -> M  NameQuery      M answers NameAnswer{found} to N
 *     N -> M  NameWithdraw   M drops the name and forwards NameWithdraw to all
 *     M -> *  NodeLeave      N's link dropped or went silent; receivers forget
 *                            N's names themselves (no per-name withdraw is sent)
 *
 * Policy: an id outside 1..255 or one whose node is live is refused (logged with
 * the peer address).  A node that restarts after its old link died rejoins with
 * a new incarnation.  A restarted master knows nothing: the nodes reconnect and
 * their NodeAnnounce rebuild both tables (first binding seen wins).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harbor.pb-c.h"
#include "harbor_config.h"
#include "harbor_frame.h"
#include "peer.h"
#include "skynet.h"
#include "skynet_socket.h"

#define MAX_NODE 256

struct mnode {
	struct hconn *c;         /* NULL: not live */
	bool announced;
	uint64_t incarnation;
	char address[128];
	char name[LINK_NAME_MAX + 1];
};

struct binding {
	char name[GLOBAL_NAME_MAX + 1];
	uint32_t handle;
};

struct master {
	struct skynet_context *ctx;
	struct harbor_config cfg;
	struct hnet *net;
	struct pb_arena arena;
	int listen;
	uint64_t incarnation;
	struct mnode node[MAX_NODE];
	struct binding *names;
	size_t nnames, capnames;
};

static int node_of(struct hconn *c) { return (int)(intptr_t)hconn_data(c); }

/* ---- names --------------------------------------------------------------------- */

static struct binding *name_find(struct master *m, const char *name)
{
	for (size_t i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i].name, name) == 0)
			return &m->names[i];
	return NULL;
}

static struct binding *name_add(struct master *m, const char *name, uint32_t handle)
{
	if (m->nnames == m->capnames) {
		size_t cap = m->capnames ? m->capnames * 2 : 64;
		struct binding *p = realloc(m->names, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		m->names = p;
		m->capnames = cap;
	}
	struct binding *b = &m->names[m->nnames++];
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->handle = handle;
	return b;
}

static void name_remove(struct master *m, struct binding *b)
{
	*b = m->names[--m->nnames];
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= GLOBAL_NAME_MAX;
}

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

static void answer(struct master *m, int to, const struct binding *b, const char *name)
{
	Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameAnswer a = SKIFF__HARBOR__NAME_ANSWER__INIT;
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
	Skiff__Harbor__NameBinding *nb = calloc(m->nnames + 1, sizeof(*nb));
	Skiff__Harbor__NameBinding **nbp = calloc(m->nnames + 1, sizeof(*nbp));
	if (nb == NULL || nbp == NULL) {
		free(nb);
		free(nbp);
		hconn_close(m->node[to].c, "master out of memory");
		return;
	}
	for (size_t i = 0; i < m->nnames; i++) {
		skiff__harbor__name_binding__init(&nb[i]);
		nb[i].name = m->names[i].name;
		nb[i].handle = m->names[i].handle;
		nbp[i] = &nb[i];
	}
	Skiff__Harbor__NodeTable t = SKIFF__HARBOR__NODE_TABLE__INIT;
	t.n_nodes = n;
	t.nodes = infop;
	t.n_names = m->nnames;
	t.names = nbp;
	send_to(m, to, SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE, &t.base);
	free(nb);
	free(nbp);
}

/* ---- frames from nodes ------------------------------------------------------------ */

static void on_announce(struct master *m, int id, Skiff__Harbor__NodeAnnounce *a)
{
	struct mnode *n = &m->node[id];
	snprintf(n->address, sizeof(n->address), "%s", a->address ? a->address : "");
	n->announced = true;
	for (size_t i = 0; i < a->n_names; i++) {
		Skiff__Harbor__NameBinding *b = a->names[i];
		if (b == NULL || b->name == NULL || !valid_name(b->name))
			continue;
		struct binding *old = name_find(m, b->name);
		if (old == NULL) {
			if (name_add(m, b->name, b->handle))
				answer(m, -1, &m->names[m->nnames - 1], NULL);
		}
	}
	send_table(m, id);
	Skiff__Harbor__NodeInfo info;
	fill_info(m, id, &info);
	Skiff__Harbor__NodeJoin j = SKIFF__HARBOR__NODE_JOIN__INIT;
	j.node = &info;
	broadcast(m, id, SKIFF__HARBOR__FRAME_TYPE__NODE_JOIN, &j.base);
	skynet_error(m->ctx, "harbor master: node %d joined (%s, incarnation %016llx, %zu names)", id,
	             n->address, (unsigned long long)n->incarnation, a->n_names);
}

static void on_register(struct master *m, int id, Skiff__Harbor__NameRegister *r)
{
	Skiff__Harbor__NameBinding *b = r->binding;
	if (b == NULL || b->name == NULL || !valid_name(b->name))
		return;
	struct binding *old = name_find(m, b->name);
	if (old) {
		answer(m, id, old, NULL); /* first registration wins */
		return;
	}
	struct binding *nb = name_add(m, b->name, b->handle);
	if (nb)
		answer(m, -1, nb, NULL);
}

static void on_withdraw(struct master *m, int id, Skiff__Harbor__NameWithdraw *w)
{
	Skiff__Harbor__NameBinding *b = w->binding;
	if (b == NULL || b->name == NULL)
		return;
	struct binding *old = name_find(m, b->name);
	/* only the node of the service may withdraw its name */
	if (old == NULL || old->handle != b->handle || (int)(b->handle >> 24) != id)
		return;
	name_remove(m, old);
	Skiff__Harbor__NameBinding nb = SKIFF__HARBOR__NAME_BINDING__INIT;
	Skiff__Harbor__NameWithdraw out = SKIFF__HARBOR__NAME_WITHDRAW__INIT;
	nb.name = b->name;
	nb.handle = b->handle;
	out.binding = &nb;
	broadcast(m, 0, SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW, &out.base);
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
			on_register(m, id, (Skiff__Harbor__NameRegister *)msg);
			break;
		case SKIFF__HARBOR__FRAME_TYPE__NAME_QUERY: {
			Skiff__Harbor__NameQuery *q = (Skiff__Harbor__NameQuery *)msg;
			if (q->name && valid_name(q->name))
				answer(m, id, name_find(m, q->name), q->name);
			break;
		}
		case SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW:
			on_withdraw(m, id, (Skiff__Harbor__NameWithdraw *)msg);
			break;
		default:
			hconn_close(c, "unexpected frame type on a master link");
			break;
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
	n->incarnation = p->incarnation;
	snprintf(n->name, sizeof(n->name), "%s", p->name);
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
	/* Its names go with it; every node drops them on NodeLeave. */
	for (size_t i = 0; i < m->nnames;) {
		if ((int)(m->names[i].handle >> 24) == id)
			name_remove(m, &m->names[i]);
		else
			i++;
	}
	Skiff__Harbor__NodeLeave l = SKIFF__HARBOR__NODE_LEAVE__INIT;
	l.id = (uint32_t)id;
	l.incarnation = inc;
	l.reason = (char *)reason;
	broadcast(m, id, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVE, &l.base);
	skynet_error(m->ctx, "harbor master: node %d left: %s", id, reason);
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

static void tick(struct master *m)
{
	hnet_tick(m->net, m->cfg.heartbeat_ms, m->cfg.timeout_ms);
	skynet_command(m->ctx, "TIMEOUT", "10");
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
	case PTYPE_RESPONSE:
		tick(m);
		break;
	default:
		break;
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
	m->net = hnet_create(ctx, "harbor master", &master_ops, m);
	if (m->net == NULL)
		return 1;
	m->listen = skynet_socket_listen(ctx, host, port, 64);
	if (m->listen < 0) {
		skynet_error(ctx, "harbor master: cannot listen on %s", standalone);
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
	hnet_destroy(m->net);
	if (m->net)
		pb_arena_finish(&m->arena);
	harbor_config_wipe(&m->cfg);
	free(m->names);
	free(m);
}
