/*
 * harbor_stats.c — the harbor service's STATS reply: a text snapshot of this
 * node, its peers and the global names it knows, for `skiff-status`, the
 * debug console and the metrics service.  Read-only over the service state.
 *
 * STATS reply: lines of space-separated key=value fields, '\n' after each.
 *   self id=<n> incarnation=<hex> master=<up|down> master_addr=<host:port>
 *        names=<bound names known here> name_queued=<messages waiting for names>
 *        name=<this node's harbor_name> state=<up|leaving (this node drains)>
 *   peer id=<n> addr=<host:port|-> state=<unknown|connecting|up|leaving|left|down>
 *        incarnation=<hex, 0 if never seen> hb_age_ms=<ms since a record arrived|->
 *        rtt_us=<last heartbeat round trip|-> frames_out=<n> bytes_out=<n>
 *        frames_in=<n> bytes_in=<n> calls_failed=<n> queued=<n> pending_calls=<n>
 *        refused=<n> name=<its harbor_name, from the master; node<id> if unknown>
 *   One peer line per node that is a member or ever had traffic.  frames/bytes
 *   count sealed records (heartbeats included) and wire bytes over every link
 *   to that node since this node started; calls_failed counts requests failed
 *   because the node was down or unreachable (by handle, or by a global name it
 *   held while it is down); queued are messages waiting for
 *   its link; pending_calls are requests carried to it and not yet answered;
 *   refused counts frames from it dropped by the per-link checks (a source
 *   that is not its own service, a type that never crosses nodes).
 *   Heartbeats are only sent on silent links that are watched (calls in
 *   flight, the master's node; harbor_node.c), so rtt_us may be
 *   old and hb_age_ms of an idle peer grows: it is not a sign of trouble.
 *   name <global name> :<handle, 8 hex>    one line per bound global name
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harbor_service.h"

struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = t->p ? vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap) : -1;
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *p = realloc(t->p, cap);
		if (p == NULL)
			return;
		t->p = p;
		t->cap = cap;
	}
}

/* "leaving": it said it drains and its link is (still) up or being made;
 * "left": it drained and its link closed. */
const char *node_state_name(const struct node *nd)
{
	switch (nd->state) {
	case NS_CONNECTING: return nd->leaving ? "leaving" : "connecting";
	case NS_UP: return nd->leaving ? "leaving" : "up";
	case NS_DOWN: return nd->left ? "left" : "down";
	default: return nd->left ? "left" : "unknown";
	}
}

/* The STATS reply (documented at the top of this file). */
void stats(struct harbor *h, uint32_t source, int session)
{
	struct text t = { 0 };
	uint64_t now = hnet_now_ms();
	size_t names = 0, pos = 0;
	struct name *n;
	while ((n = name_next(h, &pos)) != NULL)
		if (n->handle)
			names++;
	text_add(&t,
	         "self id=%d incarnation=%016llx master=%s master_addr=%s names=%zu "
	         "name_queued=%zu name=%s state=%s\n",
	         h->cfg.id, (unsigned long long)h->incarnation, h->master_up ? "up" : "down", h->master_addr,
	         names, h->name_queued, h->cfg.name, h->leaving ? "leaving" : "up");
	for (int id = 1; id < MAX_NODE; id++) {
		struct node *nd = &h->node[id];
		struct hconn_stats st = nd->closed;
		if (nd->c && hconn_open(nd->c)) {
			struct hconn_stats cur;
			hconn_stats(nd->c, &cur);
			st.records_in += cur.records_in;
			st.records_out += cur.records_out;
			st.bytes_in += cur.bytes_in;
			st.bytes_out += cur.bytes_out;
			st.last_recv_ms = cur.last_recv_ms;
			if (cur.rtt_us >= 0)
				st.rtt_us = cur.rtt_us;
		}
		if (id == h->cfg.id || (!nd->member && nd->state == NS_UNKNOWN && st.records_in == 0 &&
		                        st.records_out == 0 && nd->calls_failed == 0 && nd->refused == 0))
			continue;
		char age[24] = "-", rtt[24] = "-";
		if (st.last_recv_ms)
			snprintf(age, sizeof(age), "%llu",
			         (unsigned long long)(now > st.last_recv_ms ? now - st.last_recv_ms : 0));
		if (st.rtt_us > 0)
			snprintf(rtt, sizeof(rtt), "%lld", (long long)st.rtt_us);
		text_add(&t,
		         "peer id=%d addr=%s state=%s incarnation=%016llx hb_age_ms=%s rtt_us=%s "
		         "frames_out=%llu bytes_out=%llu frames_in=%llu bytes_in=%llu calls_failed=%llu "
		         "queued=%zu pending_calls=%zu refused=%llu name=%s\n",
		         id, nd->address[0] ? nd->address : "-", node_state_name(nd),
		         (unsigned long long)nd->incarnation, age, rtt, (unsigned long long)st.records_out,
		         (unsigned long long)st.bytes_out, (unsigned long long)st.records_in,
		         (unsigned long long)st.bytes_in, (unsigned long long)nd->calls_failed,
		         pmsg_count(nd->pending), req_count(nd), (unsigned long long)nd->refused, nd->name);
	}
	pos = 0;
	while ((n = name_next(h, &pos)) != NULL)
		if (n->handle)
			text_add(&t, "name %s :%08x\n", n->key, n->handle);
	if (t.p)
		reply(h, source, session, t.p);
	else
		skynet_send(h->ctx, 0, source, PTYPE_ERROR, session, NULL, 0);
	free(t.p);
}
