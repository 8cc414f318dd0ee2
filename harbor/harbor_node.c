/*
 * harbor_node.c — the harbor service's view of every other node: membership
 * (from the master's table), the one link per pair, and the state machine
 * below.  The message path (harbor_data.c) only reads a node's state and
 * queues on it; every state change happens here.
 *
 * Node states (one slot per id 1..255):
 *   UNKNOWN    not a member as far as we know: sends fail at once;
 *   CONNECTING member, link not up yet: sends wait in a bounded FIFO for at most
 *              harbor_timeout, then fail (up to CONNECT_PATIENCE harbor_timeouts
 *              while the peer answers our dials by closing them: it is busy);
 *   UP         link established: sends are sealed into its output buffer;
 *   DOWN       member whose link dropped: sends fail at once until it is back.
 * Exactly one link per pair: a node connects to members with a lower id and
 * accepts the others.  The initiator retries with backoff while the peer is a
 * member.  A node is declared down when its link closes for any reason
 * (including silence for harbor_timeout, see peer.h) or the master says it left:
 * every request we carried to it and that is still unanswered gets PTYPE_ERROR
 * (as if from the destination), its queue fails, LINK waiters wake and its
 * names are forgotten.  A node that said it drains (NodeLeaving, harbor_leave.c)
 * is not declared down but "left": it stops being a member at once, and
 * the errors and the log line say it left.
 *
 * Invariants: a node is UP exactly when `c` is an established link admitted
 * by node_established; `pending` is non-empty only while CONNECTING; a node
 * that is not a member is never CONNECTING or UP for long (the master's
 * NodeLeave or its link closing takes it down).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harbor_service.h"

void node_down(struct harbor *h, struct node *nd, const char *reason)
{
	if (nd->c) {
		struct hconn *c = nd->c;
		nd->c = NULL;
		hconn_set_data(c, NULL);
		hconn_close(c, reason);
	}
	int was = nd->state;
	/* A node that said it drains and then closes has left: it is no longer a
	 * member (no redial, no waiting for it) and everything says "left". */
	bool gone = nd->leaving, first = !nd->left;
	if (gone) {
		nd->left = true;
		node_set_member(h, nd, false);
	}
	nd->state = nd->member ? NS_DOWN : NS_UNKNOWN;
	char why[224];
	if (gone)
		snprintf(why, sizeof(why), "node %d (%s) left the cluster (it drained: %s)", nd->id, nd->name,
		         nd->leave_reason);
	else
		snprintf(why, sizeof(why), "node %d (%s) is down: %s", nd->id, nd->name, reason);
	size_t failed = pmsg_count(nd->pending);
	nd->calls_failed += fail_queue(h, nd->pending, why);
	size_t calls = req_count(nd);
	nd->calls_failed += calls;
	size_t pos = 0;
	uint64_t key, dest;
	while (nd->reqs && skynet_u64map_next(nd->reqs, &pos, &key, &dest)) {
		uint32_t src = (uint32_t)(key >> 32);
		int session = (int)(uint32_t)key;
		send_error(h, (uint32_t)dest, src, session, why);
	}
	if (nd->reqs)
		skynet_u64map_clear(nd->reqs);
	wlist_wake(h, &nd->link_waiters, "down");
	/* its names stop resolving; until someone holds them again, sends by
	 * those names fail at once saying where they were */
	struct name *n;
	pos = 0;
	while ((n = name_next(h, &pos)) != NULL)
		if (n->handle && (int)(n->handle >> 24) == nd->id) {
			name_forget(h, n);
			n->down_node = nd->id;
		}
	if (gone && first)
		skynet_error(h->ctx,
		             "harbor: node %d (%s) left (it drained: %s; %s): %zu pending calls failed, "
		             "%zu queued messages dropped",
		             nd->id, nd->name, nd->leave_reason, reason, calls, failed);
	else if (!gone && (was == NS_UP || failed || calls))
		skynet_error(h->ctx,
		             "harbor: node %d (%s) is down (%s): %zu pending calls failed, "
		             "%zu queued messages dropped",
		             nd->id, nd->name, reason, calls, failed);
	nd->retry_at = hnet_now_ms() + nd->backoff;
	if (nd->member)
		tick_soon(h); /* redial (or wait for its new incarnation) on time */
}

static void node_flush_pending(struct harbor *h, struct node *nd)
{
	struct pmsg m;
	while (nd->state == NS_UP && pmsg_pop(nd->pending, &m))
		send_handle(h, m.source, m.dest, m.type, m.session, m.msg, m.sz);
}

static void node_connect(struct harbor *h, struct node *nd)
{
	struct hconn_config hc = link_config(h, LINK_INITIATOR, LINK_HARBOR_PEER);
	nd->c = hnet_connect(h->net, nd->address, &hc);
	if (nd->c)
		hconn_set_data(nd->c, nd);
	nd->retry_at = hnet_now_ms() + backoff_next(&nd->backoff);
}

/* The master lists a node with its incarnation, address and harbor_name. */
void node_member(struct harbor *h, const Skiff__Harbor__NodeInfo *info, uint32_t spread_ms)
{
	uint32_t id = info->id;
	if (id < 1 || id >= MAX_NODE || (int)id == h->cfg.id)
		return;
	struct node *nd = &h->node[id];
	if (nd->left && nd->incarnation == info->incarnation)
		return; /* it drained and closed; a table older than that still lists it */
	if (nd->state == NS_UP && nd->incarnation != info->incarnation)
		node_down(h, nd, "replaced by a new incarnation");
	if (nd->incarnation != info->incarnation) {
		/* a new life of the id: whatever the previous one said is over */
		nd->leaving = false;
		nd->left = false;
		nd->leave_reason[0] = '\0';
	}
	node_set_member(h, nd, true);
	nd->incarnation = info->incarnation;
	snprintf(nd->address, sizeof(nd->address), "%s", info->address ? info->address : "");
	if (harbor_node_name_valid(info->name))
		snprintf(nd->name, sizeof(nd->name), "%s", info->name);
	else
		snprintf(nd->name, sizeof(nd->name), "node%d", nd->id);
	if (info->leaving)
		node_leaving(h, nd, "listed as leaving by the master");
	if (nd->state != NS_UP) {
		if (nd->state != NS_CONNECTING) {
			uint64_t now = hnet_now_ms();
			nd->deadline = now + h->cfg.timeout_ms;
			nd->deadline_max = now + CONNECT_PATIENCE * h->cfg.timeout_ms;
		}
		nd->state = NS_CONNECTING;
		nd->backoff = 0;
		/* the first dial at a random point of the spread: see join_spread */
		nd->retry_at = spread_ms ? hnet_now_ms() + randombytes_uniform(spread_ms) : 0;
		tick_soon(h); /* dial it, or fail its queue at the deadline, on time */
	}
}

/* How widely to spread the first dials when `members` nodes must be linked
 * at once (a node joining a big harbor dials every lower id; a restarted
 * low id is dialed by every higher one): JOIN_SPREAD_PER_NODE ms per node,
 * at most BACKOFF_MAX, none for a small harbor.  Hundreds of handshakes
 * started in the same millisecond only meet the peer's pre-auth limit per
 * source address and come back as refusals and redials.  A message for a
 * node still waiting for its dial dials at once (harbor_data.c). */
uint32_t join_spread(int members)
{
	if (members <= JOIN_SPREAD_MIN_NODES)
		return 0;
	uint64_t ms = (uint64_t)members * JOIN_SPREAD_PER_NODE;
	return (uint32_t)(ms > BACKOFF_MAX ? BACKOFF_MAX : ms);
}

/* Something about other nodes needs the tick soon: a member not linked yet
 * (to dial, or whose queue has a deadline) or a dial still handshaking. */
static void members_text(const struct harbor *h, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%u", h->member_gen);
	for (int id = 1; id < MAX_NODE && len < size; id++)
		if (id != h->cfg.id && h->node[id].member)
			len += (size_t)snprintf(buf + len, size - len, " %d", id);
}

void node_set_member(struct harbor *h, struct node *nd, bool member)
{
	if (nd->member == member)
		return;
	nd->member = member;
	h->member_gen++;
	if (h->member_waiters.n) {
		char text[MAX_NODE * 4 + 16];
		members_text(h, text, sizeof(text));
		wlist_wake(h, &h->member_waiters, text);
	}
}

void node_members(struct harbor *h, uint32_t source, int session, uint32_t seen)
{
	if (seen == h->member_gen) {
		wlist_add(&h->member_waiters, source, session);
		return;
	}
	char text[MAX_NODE * 4 + 16];
	members_text(h, text, sizeof(text));
	reply(h, source, session, text);
}

bool node_busy(const struct harbor *h)
{
	for (int id = 1; id < MAX_NODE; id++) {
		const struct node *nd = &h->node[id];
		if (id != h->cfg.id && ((nd->member && nd->state != NS_UP) || pmsg_count(nd->pending)))
			return true;
	}
	return false;
}

static void node_up(struct harbor *h, struct node *nd)
{
	nd->state = NS_UP;
	nd->left = false; /* it came back in the same life: it is still leaving */
	nd->backoff = 0;
	wlist_wake(h, &nd->connect_waiters, "up");
	node_watch(h, nd);
	leave_send(h, nd->c); /* a peer that links while we drain learns it first */
	node_flush_pending(h, nd);
}

/* A peer link finished its handshake: admit it as the node it proved to be,
 * or close it. */
void node_established(struct harbor *h, struct hconn *c)
{
	const struct link_identity *p = hconn_peer(c);
	char why[160];
	if (p->node_id < 1 || p->node_id >= MAX_NODE || (int)p->node_id == h->cfg.id) {
		snprintf(why, sizeof(why), "node id %u is not a valid peer id", p->node_id);
		hconn_close(c, why);
		return;
	}
	struct node *nd = &h->node[p->node_id];
	struct node *expected = hconn_data(c);
	/* Only the nodes the master listed, in the incarnation it listed, are
	 * peers: a key holder cannot link as an id the master never admitted, nor
	 * as a previous or next life of a member.  A node that dials us before the
	 * master's NodeJoin for it reached us is refused once and retries.  A node
	 * the master declared down that comes back in the same incarnation (it was
	 * frozen or cut off, not restarted) is the node the master listed: it is
	 * let in, and the master lists it again when it re-announces. */
	if (nd->incarnation == 0 || nd->incarnation != p->incarnation) {
		snprintf(why, sizeof(why), "node %u incarnation %016llx is not listed by the master%s",
		         p->node_id, (unsigned long long)p->incarnation,
		         nd->member ? " (it lists another incarnation)" : "");
		if (expected) {
			hconn_set_data(c, NULL);
			if (expected->c == c)
				expected->c = NULL;
		}
		hconn_close(c, why);
		return;
	}
	if (expected && expected != nd) {
		snprintf(why, sizeof(why), "peer claims node id %u, expected %d", p->node_id, expected->id);
		hconn_set_data(c, NULL);
		if (expected->c == c)
			expected->c = NULL;
		hconn_close(c, why);
		return;
	}
	if (expected == NULL && nd->c != NULL) {
		/* an inbound link for a node we already have a link (or a dial) to */
		if (nd->state == NS_UP || (int)p->node_id < h->cfg.id) {
			snprintf(why, sizeof(why), "node %u is already live", p->node_id);
			hconn_close(c, why);
			return;
		}
		struct hconn *old = nd->c;
		hconn_set_data(old, NULL);
		hconn_close(old, "superseded by an inbound link");
	}
	if (nd->incarnation && nd->incarnation != p->incarnation && nd->state == NS_UP) {
		snprintf(why, sizeof(why), "node %u is already live", p->node_id);
		hconn_close(c, why);
		return;
	}
	nd->c = c;
	hconn_set_data(c, nd);
	nd->incarnation = p->incarnation;
	if (expected) {
		/* Our dial: the handshake proves who the peer is, not that it
		 * takes the link (it refuses a node the master's NodeJoin has not
		 * told it of yet).  Up at its first record: see node_admitted. */
		return;
	}
	hconn_probe(c); /* tells the dialer it is admitted */
	node_up(h, nd);
}

/* The first record on our dial to nd: the peer admitted the link.  A dial it
 * refuses closes before that and is redialed, never seen as a node going up
 * then down. */
void node_admitted(struct harbor *h, struct hconn *c)
{
	struct node *nd = hconn_data(c);
	if (nd && nd->c == c && nd->state != NS_UP && nd->incarnation)
		node_up(h, nd);
}

/* A peer link closed (for any reason): keep its counters, and the node is down
 * if it was its live link. */
void node_closed(struct harbor *h, struct hconn *c, const char *reason)
{
	const struct link_identity *p = hconn_peer(c);
	if (p && p->node_id >= 1 && p->node_id < MAX_NODE) {
		struct node *pn = &h->node[p->node_id];
		struct hconn_stats st;
		hconn_stats(c, &st);
		pn->closed.records_in += st.records_in;
		pn->closed.records_out += st.records_out;
		pn->closed.bytes_in += st.bytes_in;
		pn->closed.bytes_out += st.bytes_out;
		if (st.last_recv_ms > pn->closed.last_recv_ms)
			pn->closed.last_recv_ms = st.last_recv_ms;
		if (st.rtt_us >= 0)
			pn->closed.rtt_us = st.rtt_us;
	}
	struct node *nd = hconn_data(c);
	if (nd == NULL || nd->c != c)
		return;
	nd->c = NULL;
	if (nd->state == NS_UP)
		node_down(h, nd, reason);
	else if (nd->state == NS_CONNECTING && hconn_peer_ended(c)) {
		/* Our dial reached the node and it closed it: it is alive, only
		 * busy (a join storm fills its pre-auth slots, or it has not heard
		 * of us from the master yet).  What waits for it gets another
		 * harbor_timeout counted from our next dial (retry_at: the backoff
		 * grows to BACKOFF_MAX, which may exceed a short harbor_timeout), up
		 * to CONNECT_PATIENCE of them in all.  During a 200-node join every
		 * node dials node 1 at once, and start calls to node 1 (service_mgr)
		 * failed after harbor_timeout although node 1 was up all along.  A
		 * dead node refuses the dial and a frozen one never closes it:
		 * neither extends the wait. */
		uint64_t now = hnet_now_ms();
		uint64_t later = (nd->retry_at > now ? nd->retry_at : now) + h->cfg.timeout_ms;
		if (later > nd->deadline_max)
			later = nd->deadline_max;
		if (later > nd->deadline)
			nd->deadline = later;
	}
}

/* Whether this node itself must watch its link to nd (heartbeats and the
 * silence timeout, peer.h).  The master already watches every node's master
 * link and tells everyone (NodeLeave) within harbor_timeout when one dies or
 * freezes, so a link on which we wait for nothing needs no heartbeat of its
 * own: an idle mesh then costs each node O(1), not O(peers).  We watch
 * ourselves only where the master cannot help:
 *   - requests to nd are in flight: they must fail within harbor_timeout even
 *     if only the path between the two of us is cut, or the master is away;
 *   - nd hosts the master: if it freezes, nobody is left to say so.
 * Not every link when the master is away: on a crowded host that is when
 * every node would start probing every peer at once, and the load of the
 * probes made more nodes miss their deadlines (a 250-node join cascaded
 * into tens of thousands of false downs).  Without the master, a peer that
 * dies still closes its sockets; one that freezes is noticed by the first
 * call to it, within harbor_timeout.  The peer answers our probes whatever
 * it watches, so one side is enough. */
static bool watch_wanted(const struct harbor *h, const struct node *nd)
{
	return nd->id == h->master_node || req_count(nd) > 0;
}

void node_watch(struct harbor *h, struct node *nd)
{
	if (nd->c && nd->state == NS_UP)
		hconn_watch(nd->c, watch_wanted(h, nd));
}

/* Connect retries, the CONNECTING deadline and which links are watched, from
 * the service's tick. */
void node_tick(struct harbor *h, uint64_t now)
{
	for (int id = 1; id < MAX_NODE; id++) {
		struct node *nd = &h->node[id];
		if (nd->state == NS_CONNECTING && now >= nd->deadline && pmsg_count(nd->pending)) {
			size_t n = pmsg_count(nd->pending);
			char why[160];
			snprintf(why, sizeof(why), "no link to node %d (%s) within harbor_timeout", id,
			         nd->name);
			nd->calls_failed += fail_queue(h, nd->pending, why);
			skynet_error(h->ctx, "harbor: %s: %zu queued messages failed", why, n);
			nd->state = NS_DOWN;
		}
		if (nd->member && nd->state != NS_UP && nd->c == NULL && id < h->cfg.id &&
		    now >= nd->retry_at && nd->address[0])
			node_connect(h, nd);
		node_watch(h, nd);
	}
}

/* Frees what the node slot holds (the service is going away). */
void node_release(struct node *nd)
{
	struct pmsg m;
	while (pmsg_pop(nd->pending, &m))
		skynet_free(m.msg);
	skynet_fifo_free(nd->pending);
	skynet_u64map_free(nd->reqs);
	free(nd->link_waiters.v);
	free(nd->connect_waiters.v);
}
