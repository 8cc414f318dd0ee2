/*
 * service_cluster.c — the `cluster` C service: cluster mode's transport.
 *
 * One instance per node, launched by clusterd.  It owns the listen sockets and
 * every cluster link of the node, and carries messages for callers (the flow,
 * and how the service's files divide the work, are in cluster_internal.h).
 * Policy lives in clusterd (Lua): it tells this service, in PTYPE_TEXT
 * commands, where nodes are, which names are registered and where to listen.
 *
 * This file is the service itself: its configuration (keys, limits), the
 * commands, the listen sockets, the timer, and the dispatch of each message
 * to route.c (callers), the connection layer (sockets of links) and
 * inbound.c (answers of local targets).
 *
 * Invariants:
 *   - every connection of a link belongs to `net` (link/peer.h), which
 *     batches their output: frames produced while the queue drains leave in
 *     one write when it is empty (or every tick), and a connection marked
 *     closing is reaped before the callback returns;
 *   - a listener is in `listeners` from its listen command until its socket
 *     closes; its first CONNECT event answers the command once.
 *
 * A link that drops, or that receives nothing for `timeout_ms` (both ends
 * send a heartbeat after `heartbeat_ms` of silence), fails every call waiting
 * on it; the next message to that node dials again.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "skynet.h"
#include "skynet_server.h"
#include "skynet_socket.h"

#include "cluster_internal.h"
#include "credential.h"
#include "keyfile.h"

#define TICK_CS 10
#define DEFAULT_MAX_MESSAGE ((size_t)64 * 1024 * 1024)

struct listener {
	struct listener *next;
	int sock;
	char name[CLUSTER_NODE_MAX + 1];
	uint32_t caller;
	int session;
	bool ready;
};

/* ---------------------------------------------------------------- listeners */

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

static void cmd_listen(struct cluster *cl, uint32_t source, int session, const char *host, int port,
                       const char *name)
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

/* Socket events that are not a link's: listeners (ready, accept, error). */
static void on_socket(struct cluster *cl, const struct skynet_socket_message *m, size_t sz)
{
	if (hnet_socket(cl->net, m))
		return;
	struct listener *li = find_listener(cl, m->id);
	const char *pad = m->buffer == NULL && sz > sizeof(*m) ? (const char *)(m + 1) : "";
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA: skynet_free(m->buffer); break;
	case SKYNET_SOCKET_TYPE_CONNECT:
		if (li && !li->ready) {
			li->ready = true;
			char port[32];
			snprintf(port, sizeof(port), "OK %d", m->ud);
			text_reply(cl, li->caller, li->session, port);
		}
		break;
	case SKYNET_SOCKET_TYPE_ACCEPT:
		if (li) {
			/* admission (preauth.h) is the connection layer's */
			struct hconn_config cfg =
				clink_config(cl, LINK_RESPONDER, li->name[0] ? li->name : cl->self);
			hnet_accept(cl->net, m->ud, pad, &cfg);
		}
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
		if (li)
			drop_listener(cl, li);
		break;
	case SKYNET_SOCKET_TYPE_ERROR:
		if (li) {
			if (!li->ready) {
				char why[200];
				snprintf(why, sizeof(why), "ERR %s", pad[0] ? pad : "listen failed");
				text_reply(cl, li->caller, li->session, why);
			}
			drop_listener(cl, li);
		}
		break;
	default: break;
	}
}

/* ---------------------------------------------------------------- commands */

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
		route_node(cl, a1, a2);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "nowaiting") == 0 && a1) {
		route_nowaiting(cl, strcmp(a1, "true") == 0);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "register") == 0 && a1 && a2) {
		uint32_t h = (uint32_t)strtoul(a2, NULL, 10);
		if (skynet_strmap_put(cl->names, a1, (void *)(uintptr_t)h) == 0)
			text_reply(cl, source, session, "OK");
		else
			text_reply(cl, source, session, "ERR out of memory");
	} else if (strcmp(cmd, "unregister") == 0 && a1) {
		skynet_strmap_del(cl->names, a1, NULL);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "self") == 0 && a1) {
		if (cl->has_cred && strcmp(a1, cl->cred_name) != 0)
			skynet_error(cl->ctx,
			             "cluster: this node's credential is for [%s]; it cannot "
			             "act as [%s] (peers would refuse it)",
			             cl->cred_name, a1);
		snprintf(cl->self, sizeof(cl->self), "%s", cl->has_cred ? cl->cred_name : a1);
		text_reply(cl, source, session, "OK");
	} else if (strcmp(cmd, "listen") == 0 && a1 && a2) {
		cmd_listen(cl, source, session, a1, atoi(a2), a3);
	} else {
		text_reply(cl, source, session, "ERR unknown command");
	}
}

/* ---------------------------------------------------------------- timer */

static void arm_tick(struct cluster *cl)
{
	char ti[16];
	snprintf(ti, sizeof(ti), "%d", TICK_CS);
	const char *s = skynet_command(cl->ctx, "TIMEOUT", ti);
	cl->tick_session = s ? atoi(s) : 0;
}

/* Handshake deadlines, heartbeats, silent links (the connection layer's),
 * retiring links (clink.c); whatever is written leaves now, even if the
 * queue is never empty. */
static void on_tick(struct cluster *cl)
{
	hnet_tick(cl->net, cl->heartbeat_ms, cl->timeout_ms);
	clink_tick(cl);
	hnet_reap(cl->net);
	hnet_flush(cl->net);
	arm_tick(cl);
}

/* ---------------------------------------------------------------- service */

static int cluster_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                      const void *msg, size_t sz)
{
	struct cluster *cl = ud;
	int kept = 0;
	switch (type) {
	case PTYPE_CLUSTER: kept = route_call(cl, source, session, msg, sz); break;
	case PTYPE_RESPONSE:
		if (session == cl->tick_session && source == 0) {
			on_tick(cl);
			return 0;
		}
		kept = inbound_result(cl, type, source, session, (void *)msg, sz);
		break;
	case PTYPE_ERROR:
		if (session != 0)
			kept = inbound_result(cl, type, source, session, (void *)msg, sz);
		break;
	case PTYPE_SOCKET: on_socket(cl, msg, sz); break;
	case PTYPE_TEXT: on_text(cl, source, session, msg, sz); break;
	default: break;
	}
	hnet_reap(cl->net);
	if (hnet_dirty(cl->net) && skynet_context_mqlen(ctx) == 0)
		hnet_flush(cl->net);
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
		skynet_error(ctx,
		             "cluster: config keys 'cluster_pub' and 'node_credential' go "
		             "together; only '%s' is set",
		             want_pub ? "cluster_pub" : "node_credential");
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
		if (cred_load_node(cred, cl->cred.cluster_pub, (uint64_t)time(NULL), &cl->cred, &cert, err,
		                   sizeof(err)) != 0) {
			skynet_error(ctx, "cluster: node_credential: %s", err);
			return -1;
		}
		if (cert.node_id != 0) {
			sodium_memzero(&cl->cred, sizeof(cl->cred));
			skynet_error(ctx,
			             "cluster: node_credential: %s is for harbor node id %u; cluster "
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
	cl->links = skynet_u64map_new();
	cl->execs = skynet_u64map_new();
	cl->nodes = skynet_strmap_new();
	cl->names = skynet_strmap_new();
	if (cl->links == NULL || cl->execs == NULL || cl->nodes == NULL || cl->names == NULL) {
		skynet_error(ctx, "cluster: out of memory");
		return 1; /* cluster_release frees what was made */
	}
	cl->net = hnet_new(ctx, "cluster", &clink_ops, cl);
	if (cl->net == NULL)
		return 1; /* logged */
	randombytes_buf(&cl->incarnation, sizeof(cl->incarnation));
	snprintf(cl->self, sizeof(cl->self), "%s",
	         cl->has_cred      ? cl->cred_name
	         : parm && parm[0] ? parm
	                           : "noname");
	pb_arena_init(&cl->arena, NULL, 0);
	skynet_callback(ctx, cl, cluster_cb);
	arm_tick(cl);
	return 0;
}

void cluster_release(struct cluster *cl)
{
	if (cl == NULL)
		return;
	clink_free_all(cl, "node exiting");
	hnet_free(cl->net); /* a sealed CLOSE on every link still up */
	while (cl->listeners)
		drop_listener(cl, cl->listeners);
	route_free(cl);
	inbound_free(cl);
	pb_arena_finish(&cl->arena);
	sodium_memzero(cl->key, sizeof(cl->key));
	sodium_memzero(&cl->cred, sizeof(cl->cred));
	free(cl);
}
