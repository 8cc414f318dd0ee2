/*
 * harbor_names.c — this node's replica of the master's global names, plus its
 * own bindings: resolving a name for a send, registering, withdrawing the
 * names of services that exited, and re-announcing them to a new master.
 *
 * Names: a replica of the master's registry (name -> handle) plus local
 * bindings.  A message to an unknown name waits in a bounded queue while a
 * NameQuery goes to the master, until a NameAnswer or harbor_name_timeout
 * (requests then fail with PTYPE_ERROR).  The queue holds at most
 * `harbor_name_queue` [100000] messages over all names; past that a message
 * fails at once.  Local bindings whose service has exited are withdrawn within
 * NAME_CHECK_MS, or at once when a service registers the same name.
 *
 * A name held by a node that went down does not make its senders wait: while
 * that node is down (this node saw it go down, or the master answers that the
 * name is reserved for it), a message to the name fails at once with
 * "name X was on node N (label), which is down", counted in that node's
 * calls_failed.  Once the node is back (connecting or up) messages wait for
 * the name again, as its new incarnation registers it.  This holds only while
 * our own view is current (h->table_fresh: the master link is up and its node
 * table came since): a node that was itself frozen or cut off sees every peer
 * go down at once, and until the master lists them again its calls by name
 * wait as before instead of failing (multinode_multicast's rejoin needs the
 * DATACENTER name through such a freeze).
 *
 * Invariants: entries are never removed from h->names (handle 0 means not
 * known now); a name with queued messages or QUERYNAME waiters is asked of
 * the master again every second until it resolves or they time out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet_handle.h"
#include "skynet_server.h"

#include "harbor_service.h"

struct name *name_get(struct harbor *h, const char *key, bool create)
{
	struct name *n = skynet_strmap_find(h->names, key);
	if (n || !create)
		return n;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	snprintf(n->key, sizeof(n->key), "%s", key);
	if (skynet_strmap_put(h->names, n->key, n) != 0) {
		free(n);
		return NULL;
	}
	return n;
}

/* Walks every name: `size_t pos = 0; while ((n = name_next(h, &pos)))`.  Names
 * are never removed (a withdrawn one keeps its entry with handle 0), so a walk
 * may bind and forget names but not create them. */
struct name *name_next(struct harbor *h, size_t *pos)
{
	void *n = NULL;
	return skynet_strmap_next(h->names, pos, NULL, &n) ? n : NULL;
}

/* A name got its handle: deliver what waited, wake the queries. */
static void name_bound(struct harbor *h, struct name *n, uint32_t handle)
{
	n->handle = handle;
	n->down_node = 0;
	char text[16];
	snprintf(text, sizeof(text), ":%08x", handle);
	h->name_waiters -= n->waiters.n;
	wlist_wake(h, &n->waiters, text);
	struct pmsg m;
	while (pmsg_pop(n->q, &m)) {
		h->name_queued--;
		send_handle(h, m.source, handle, m.type, m.session, m.msg, m.sz);
	}
}

void name_ask(struct harbor *h, struct name *n)
{
	Skiff__Harbor__NameQuery q = SKIFF__HARBOR__NAME_QUERY__INIT;
	q.name = n->key;
	send_master(h, SKIFF__HARBOR__FRAME_TYPE__NAME_QUERY, &q.base);
	n->asked_at = hnet_now_ms();
}

/* Why a message to name n, held by nd which is down or left, fails at once. */
static void name_gone_reason(const struct name *n, const struct node *nd, char *buf, size_t size)
{
	if (nd->left)
		snprintf(buf, size, "name %s was on node %d (%s), which left the cluster (it drained: %s)",
		         n->key, nd->id, nd->name, nd->leave_reason);
	else
		snprintf(buf, size, "name %s was on node %d (%s), which is down", n->key, nd->id, nd->name);
}

void send_name(struct harbor *h, uint32_t source, const char *key, int type, int session, void *msg,
               size_t sz)
{
	struct name *n = name_get(h, key, true);
	if (n && n->handle) {
		send_handle(h, source, n->handle, type, session, msg, sz);
		return;
	}
	if (n && n->down_node && h->table_fresh && node_is_down(&h->node[n->down_node])) {
		struct node *nd = &h->node[n->down_node];
		char why[224];
		name_gone_reason(n, nd, why, sizeof(why));
		if (is_request(type, session))
			nd->calls_failed++;
		fail_msg(h, source, 0, type, session, msg, why);
		return;
	}
	struct pmsg m = {
		.source = source,
		.dest = 0,
		.type = type,
		.session = session,
		.msg = msg,
		.sz = sz,
		.deadline = hnet_now_ms() + h->cfg.name_timeout_ms,
	};
	if (n == NULL || h->name_queued >= h->name_queue_max || pmsg_push(&n->q, &m) != 0) {
		skynet_error(h->ctx, "harbor: drop message to %s from :%08x: name queue full", key, source);
		fail_msg(h, source, 0, type, session, msg,
		         "the queue of messages waiting for global "
		         "names is full (harbor_name_queue)");
		return;
	}
	h->name_queued++;
	if (pmsg_count(n->q) == 1 && n->waiters.n == 0)
		name_ask(h, n);
	tick_soon(h); /* its deadline and the re-asks need the tick */
}

void name_forget(struct harbor *h, struct name *n)
{
	n->handle = 0;
	n->down_node = 0;
}

/* The master does not resolve a name: if it says the name is reserved for a
 * node that is down here too, what waits for it fails now instead of at
 * harbor_name_timeout. */
void name_unresolved(struct harbor *h, const Skiff__Harbor__NameAnswer *a)
{
	uint32_t owner = a->reserved_for;
	if (a->binding == NULL || a->binding->name == NULL || owner < 1 || owner >= MAX_NODE ||
	    (int)owner == h->cfg.id)
		return;
	struct name *n = name_get(h, a->binding->name, false);
	struct node *nd = &h->node[owner];
	if (n == NULL || n->handle || !h->table_fresh || !node_is_down(nd))
		return;
	n->down_node = (int)owner;
	/* a node this one never saw carries no label here yet: take the master's */
	if (nd->incarnation == 0 && harbor_node_name_valid(a->reserved_name))
		snprintf(nd->name, sizeof(nd->name), "%s", a->reserved_name);
	char why[224];
	name_gone_reason(n, nd, why, sizeof(why));
	size_t dropped = pmsg_count(n->q);
	h->name_queued -= dropped;
	nd->calls_failed += fail_queue(h, n->q, why);
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

void register_name(struct harbor *h, const char *key, uint32_t handle)
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

void bind_remote(struct harbor *h, Skiff__Harbor__NameBinding *b)
{
	if (b == NULL || b->name == NULL || b->name[0] == '\0' || strlen(b->name) > GLOBAL_NAME_MAX ||
	    b->handle == 0)
		return;
	struct name *n = name_get(h, b->name, true);
	if (n == NULL)
		return;
	if (n->handle && n->handle != b->handle && (n->handle >> 24) == (uint32_t)h->cfg.id)
		skynet_error(h->ctx, "harbor: global name %s is taken by :%08x (ours was :%08x)", n->key,
		             b->handle, n->handle);
	name_bound(h, n, b->handle);
}

void announce(struct harbor *h)
{
	size_t count = 0, pos = 0;
	struct name *n;
	while ((n = name_next(h, &pos)) != NULL)
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
	pos = 0;
	while ((n = name_next(h, &pos)) != NULL)
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
	pos = 0;
	while ((n = name_next(h, &pos)) != NULL)
		if (n->handle == 0 && (pmsg_count(n->q) || n->waiters.n))
			name_ask(h, n);
}

void check_names(struct harbor *h, uint64_t now)
{
	/* an idle tick does not walk the names */
	if (h->name_queued == 0 && h->name_waiters == 0 && now < h->next_name_check)
		return;
	size_t pos = 0;
	struct name *n;
	while ((n = name_next(h, &pos)) != NULL) {
		/* messages that waited too long for their name */
		struct pmsg *head, m;
		while (n->q && (head = skynet_fifo_peek(n->q)) != NULL && head->deadline <= now) {
			pmsg_pop(n->q, &m);
			h->name_queued--;
			skynet_error(h->ctx,
			             "harbor: no global name %s after %llu ms: drop message "
			             "from :%08x",
			             n->key, (unsigned long long)h->cfg.name_timeout_ms, m.source);
			char why[96];
			snprintf(why, sizeof(why), "no global name %s after %llu ms (harbor_name_timeout)",
			         n->key, (unsigned long long)h->cfg.name_timeout_ms);
			fail_msg(h, m.source, 0, m.type, m.session, m.msg, why);
		}
		if (n->handle == 0 && (pmsg_count(n->q) || n->waiters.n) && now - n->asked_at >= 1000)
			name_ask(h, n);
		if (now < h->next_name_check)
			continue;
		/* local bindings whose service exited */
		name_withdraw_dead(h, n);
	}
	if (now >= h->next_name_check)
		h->next_name_check = now + NAME_CHECK_MS;
}

/* Frees every name and what waits on it (the service is going away). */
void names_release(struct harbor *h)
{
	size_t pos = 0;
	struct name *n;
	while (h->names && (n = name_next(h, &pos)) != NULL) {
		struct pmsg m;
		while (pmsg_pop(n->q, &m))
			skynet_free(m.msg);
		skynet_fifo_free(n->q);
		free(n->waiters.v);
		free(n);
	}
	skynet_strmap_free(h->names);
	h->names = NULL;
}
