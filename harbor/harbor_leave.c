/*
 * harbor_leave.c — a draining node tells the cluster it is leaving, and the
 * other side of that: a peer that is leaving.
 *
 * This node: `.shutdown` sends the harbor the command LEAVING <reason> when
 * the drain starts (services/shutdownd.lua).  From then on h->leaving is set
 * and a NodeLeaving for our own id goes to the master and on every peer link,
 * now and on every link made later (a peer still connecting, a master that
 * restarts), so every node learns it even if it links during the drain.  The
 * node keeps serving: nothing else changes until it stops and its links close.
 *
 * Other nodes: a NodeLeaving on a peer link is accepted only for the id (and
 * incarnation) that link proved — a node speaks only for itself; anything
 * else is refused like any forged frame (counted, logged once a second).  The
 * master relays the ones it accepted, so a NodeLeaving from the master may
 * name any member.  A leaving node stays UP and keeps receiving calls; when
 * its link closes (or the master says it left) harbor_node.c reports it as
 * "left" rather than "down", and calls to its handles and names fail at once
 * saying it left.  A new incarnation of the id clears all of it.
 */
#include <stdio.h>
#include <string.h>

#include "skynet_server.h"

#include "harbor_service.h"

/* A peer's words go into our log and callers' errors: printable ASCII only,
 * at most LEAVE_REASON_MAX bytes. */
void leave_reason_copy(char *dst, const char *src)
{
	size_t i = 0;
	for (const char *r = src ? src : ""; *r && i < LEAVE_REASON_MAX; r++)
		dst[i++] = (*r >= 0x20 && *r < 0x7f) ? *r : '?';
	dst[i] = '\0';
}

/* Node nd said (or the master said for it) that it drains. */
void node_leaving(struct harbor *h, struct node *nd, const char *reason)
{
	if (nd->leaving)
		return;
	nd->leaving = true;
	nd->left = false;
	leave_reason_copy(nd->leave_reason, reason && reason[0] ? reason : "no reason given");
	skynet_error(h->ctx,
	             "harbor: node %d (%s) is leaving (it drains: %s); calls to it are served until it stops",
	             nd->id, nd->name, nd->leave_reason);
}

/* Our NodeLeaving on link c (the master link or a peer link that is up). */
void leave_send(struct harbor *h, struct hconn *c)
{
	if (!h->leaving || c == NULL)
		return;
	Skiff__Harbor__NodeLeaving l = SKIFF__HARBOR__NODE_LEAVING__INIT;
	l.id = (uint32_t)h->cfg.id;
	l.incarnation = h->incarnation;
	l.reason = h->leave_reason;
	if (c == h->master)
		send_master(h, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING, &l.base);
	else if (hconn_send(c, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING, &l.base) != 0)
		hconn_close(c, "cannot send NodeLeaving");
}

/* The LEAVING command: this node starts draining.  Said once. */
void leave_start(struct harbor *h, const char *reason)
{
	if (h->leaving)
		return;
	h->leaving = true;
	leave_reason_copy(h->leave_reason, reason && reason[0] ? reason : "requested");
	int told = 0;
	for (int id = 1; id < MAX_NODE; id++) {
		struct node *nd = &h->node[id];
		if (nd->state == NS_UP && nd->c) {
			leave_send(h, nd->c);
			told++;
		}
	}
	if (h->master_up)
		leave_send(h, h->master);
	skynet_error(h->ctx, "harbor: node %d (%s) leaving (%s): told %d peer(s)%s", h->cfg.id, h->cfg.name,
	             h->leave_reason, told, h->master_up ? " and the master" : "; the master link is down");
}
