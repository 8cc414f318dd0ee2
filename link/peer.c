/*
 * peer.c — secure links over the socket layer (see peer.h).
 *
 * Invariants:
 *   - a connection is in the set's list from hnet_accept/hnet_connect until
 *     hnet_reap frees it; `closing` is set exactly once, with the reason;
 *   - the link is fed only from hnet_socket, never from a callback;
 *   - `out` holds bytes not yet handed to the socket layer; after a flush it is
 *     empty and owns no memory (the socket layer frees what it was given);
 *   - a connection is on the set's dirty list (`dirty`) exactly when it is
 *     listed, connected and `out` is not empty, so a flush visits only those;
 *   - every listed connection is also in the socket-id table (`bysock`), so a
 *     socket event finds its connection in O(1) whatever the number of links;
 *   - an accepted connection holds a pre-auth slot (preauth.h) from
 *     hnet_accept until it authenticates or is reaped: unauthenticated load is
 *     bounded before it can cost the owner more than O(1) per event;
 *   - `link` is NULL only for an accepted connection that has received no
 *     byte yet: its link (guarded memory, handshake state) is made by the
 *     first DATA, so a connection that only sits there costs a calloc, and
 *     `deadline` stands in for the link's handshake deadline until then.
 */
#include "peer.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dial_log.h"
#include "frame.h"
#include "link.pb-c.h"
#include "preauth.h"
#include "skynet.h"
#include "skynet_socket.h"

struct hconn {
	struct hnet *net;
	struct hconn *next;
	struct hconn *hnext; /* chain in net->bysock */
	struct preauth_slot slot;
	int sock;
	bool accepted;           /* responder: came from a listen socket */
	uint64_t deadline;       /* link == NULL: hnet_now_ms() by which bytes must come */
	struct hconn_config cfg; /* link == NULL: how to make it */
	bool connected;          /* socket up (initiator: CONNECT seen) */
	bool peer_ended;         /* the peer ended it (EOF or reset) while it was up */
	bool closing;
	bool announced; /* established callback ran */
	char reason[160];
	char addr[72];
	struct link *link;
	struct link_buf out;
	struct hconn *dprev, *dnext; /* dirty list links, when on it */
	bool on_dirty;
	uint64_t last_send;
	bool unwatched;       /* hconn_watch(c, false): no heartbeat, no silence check */
	uint64_t watch_since; /* when it was last watched again: silence counts from here */
	uint64_t hb_seq;
	uint64_t hb_sent_us; /* when probe hb_seq left */
	int64_t rtt_us;      /* last probe's round trip; -1 before the first reply */
	uint64_t records_in, records_out, bytes_in, bytes_out;
	void *data;
};

struct hnet {
	struct skynet_context *ctx;
	const struct hconn_ops *ops;
	void *ud;
	char tag[32];
	struct hconn *list;
	size_t count;          /* connections in the list */
	struct hconn **bysock; /* socket id -> connection; power-of-two buckets */
	size_t buckets;
	struct hconn *dirty; /* connections with bytes to write */
	size_t closing;      /* listed connections marked closing: reaping is free at 0 */
	struct preauth *preauth;
	struct dial_log *dials; /* failing outgoing addresses: bounded logging */
};

uint64_t hnet_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int hnet_split_address(const char *hostport, char *host, size_t hostsz, int *port)
{
	if (hostport == NULL)
		return -1;
	const char *colon = strrchr(hostport, ':');
	if (colon == NULL || colon == hostport || (size_t)(colon - hostport) >= hostsz)
		return -1;
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || p < 0 || p > 65535)
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	*port = (int)p;
	return 0;
}

struct hnet *hnet_new(struct skynet_context *ctx, const char *tag, const struct hconn_ops *ops, void *ud)
{
	struct preauth_limits lim;
	if (preauth_limits_load(ctx, &lim) != 0)
		return NULL;
	struct hnet *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->ctx = ctx;
	n->ops = ops;
	n->ud = ud;
	snprintf(n->tag, sizeof(n->tag), "%s", tag);
	n->buckets = 64;
	n->bysock = calloc(n->buckets, sizeof(*n->bysock));
	n->preauth = preauth_new(ctx, n->tag, &lim);
	n->dials = dial_log_new();
	if (n->bysock == NULL || n->preauth == NULL || n->dials == NULL) {
		skynet_error(ctx, "%s: out of memory", n->tag);
		free(n->bysock);
		preauth_free(n->preauth);
		dial_log_free(n->dials);
		free(n);
		return NULL;
	}
	return n;
}

/* ---- dirty list ------------------------------------------------------------------ */

static void dirty_del(struct hnet *n, struct hconn *c)
{
	if (!c->on_dirty)
		return;
	if (c->dprev)
		c->dprev->dnext = c->dnext;
	else
		n->dirty = c->dnext;
	if (c->dnext)
		c->dnext->dprev = c->dprev;
	c->dprev = c->dnext = NULL;
	c->on_dirty = false;
}

/* After anything that may have appended to c->out. */
static void mark_dirty(struct hnet *n, struct hconn *c)
{
	if (c->on_dirty || c->out.len == 0 || !c->connected)
		return;
	c->on_dirty = true;
	c->dprev = NULL;
	c->dnext = n->dirty;
	if (n->dirty)
		n->dirty->dprev = c;
	n->dirty = c;
}

/* ---- socket id table ------------------------------------------------------------ */

static size_t sock_bucket(const struct hnet *n, int sock)
{
	return ((unsigned)sock * 2654435761u) & (n->buckets - 1);
}

/* Doubles the table when it holds more connections than buckets; on failure
 * the chains just get longer. */
static void sock_grow(struct hnet *n)
{
	size_t nb = n->buckets * 2;
	struct hconn **t = calloc(nb, sizeof(*t));
	if (t == NULL)
		return;
	struct hconn **old = n->bysock;
	size_t ob = n->buckets;
	n->bysock = t;
	n->buckets = nb;
	for (size_t i = 0; i < ob; i++) {
		struct hconn *c = old[i];
		while (c) {
			struct hconn *next = c->hnext;
			size_t b = sock_bucket(n, c->sock);
			c->hnext = t[b];
			t[b] = c;
			c = next;
		}
	}
	free(old);
}

static void sock_add(struct hnet *n, struct hconn *c)
{
	if (n->count > n->buckets)
		sock_grow(n);
	size_t b = sock_bucket(n, c->sock);
	c->hnext = n->bysock[b];
	n->bysock[b] = c;
}

static void sock_del(struct hnet *n, struct hconn *c)
{
	struct hconn **pp = &n->bysock[sock_bucket(n, c->sock)];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
}

static void conn_free(struct hconn *c)
{
	link_free(c->link);
	link_buf_free(&c->out);
	free(c);
}

static void flush_one(struct hnet *n, struct hconn *c);

/* The service is going away (node shutdown, or the service killed): every link
 * still up gets a sealed CLOSE, so its peer sees a clean stop at once instead
 * of a truncated stream, and every socket is closed (the socket server sends
 * what is queued first). */
void hnet_free(struct hnet *n)
{
	if (n == NULL)
		return;
	struct hconn *c = n->list;
	while (c) {
		struct hconn *next = c->next;
		if (!c->closing && c->link && link_state(c->link) == LINK_ESTABLISHED)
			link_close(c->link, "node stopping", &c->out);
		flush_one(n, c);
		if (c->sock >= 0)
			skynet_socket_close(n->ctx, c->sock);
		conn_free(c);
		c = next;
	}
	preauth_free(n->preauth);
	dial_log_free(n->dials);
	free(n->bysock);
	free(n);
}

/* ---- link callbacks ---------------------------------------------------------- */

static void on_established(void *ud, struct link *l)
{
	struct hconn *c = ud;
	c->announced = true;
	preauth_leave(c->net->preauth, &c->slot);
	if (!c->accepted)
		dial_log_up(c->net->dials, c->net->ctx, c->net->tag, c->addr, hnet_now_ms());
	if (c->net->ops->established)
		c->net->ops->established(c->net->ud, c);
}

/* A heartbeat moved link_last_recv(), which is what liveness needs.  Beyond
 * that, a probe is answered with a reply carrying its seq and time, and the
 * reply to our latest probe measures the round trip. */
static void on_heartbeat(struct hconn *c, const uint8_t *data, size_t len)
{
	Skiff__Link__Heartbeat *hb = skiff__link__heartbeat__unpack(NULL, len, data);
	if (hb == NULL)
		return;
	if (!hb->reply) {
		Skiff__Link__Heartbeat r = SKIFF__LINK__HEARTBEAT__INIT;
		r.seq = hb->seq;
		r.time_ms = hb->time_ms;
		r.reply = true;
		/* the reply is a send like any other: the prober hears from us
		 * every heartbeat period, so we need not probe it too (half the
		 * heartbeat records of an idle link) */
		if (frame_send(c->link, &c->out, LINK_TYPE_HEARTBEAT, &r.base) == 0) {
			c->records_out++; /* the caller of link_feed marks c dirty */
			c->last_send = hnet_now_ms();
		}
	} else if (hb->seq == c->hb_seq && c->hb_sent_us) {
		c->rtt_us = (int64_t)(now_us() - c->hb_sent_us);
		c->hb_sent_us = 0;
	}
	skiff__link__heartbeat__free_unpacked(hb, NULL);
}

static void on_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len)
{
	struct hconn *c = ud;
	if (c->closing)
		return;
	if (c->records_in++ == 0 && c->net->ops->first_record) {
		c->net->ops->first_record(c->net->ud, c);
		if (c->closing)
			return;
	}
	if (type == LINK_TYPE_HEARTBEAT) {
		on_heartbeat(c, data, len);
		return;
	}
	c->net->ops->record(c->net->ud, c, type, data, len);
}

static int make_link(struct hconn *c, const struct hconn_config *cfg, uint64_t now)
{
	struct link_config lc = {
		.role = cfg->role,
		.purpose = cfg->purpose,
		.self = cfg->self,
		.cluster_key = cfg->cluster_key,
		.credential = cfg->credential,
		.max_record = cfg->max_record,
		.handshake_timeout_ms = cfg->handshake_ms,
		.on_established = on_established,
		.on_record = on_record,
		.ud = c,
	};
	c->link = link_new(&lc, now);
	return c->link ? 0 : -1;
}

/* Fills a zeroed connection and lists it; -1 (nothing to undo but the
 * calloc) when the link cannot be created.  `lazy`: the link waits for the
 * first byte (accepted connections). */
static int conn_init(struct hnet *n, struct hconn *c, int sock, const char *addr,
                     const struct hconn_config *cfg, bool lazy)
{
	c->net = n;
	c->sock = sock;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	uint64_t now = hnet_now_ms();
	if (lazy) {
		c->cfg = *cfg;
		c->deadline = now + (cfg->handshake_ms ? cfg->handshake_ms : LINK_DEFAULT_HANDSHAKE_MS);
	} else if (make_link(c, cfg, now) != 0) {
		return -1;
	}
	c->last_send = now;
	c->watch_since = now;
	c->rtt_us = -1;
	c->next = n->list;
	n->list = c;
	n->count++;
	sock_add(n, c);
	return 0;
}

static struct hconn *slot_owner(struct preauth_slot *s)
{
	return (struct hconn *)(void *)((char *)s - offsetof(struct hconn, slot));
}

/* Admission first: a refused connection costs a calloc, a table lookup and a
 * close; no link is made for it.  At the total limit the oldest
 * unauthenticated connection makes room (closed here, reaped by the owner's
 * next hnet_reap). */
struct hconn *hnet_accept(struct hnet *n, int sock, const char *addr, const struct hconn_config *cfg)
{
	struct hconn *c = calloc(1, sizeof(*c));
	struct preauth_slot *evict = NULL;
	if (c && !preauth_enter(n->preauth, &c->slot, addr, &evict)) {
		free(c);
		skynet_socket_close(n->ctx, sock);
		return NULL;
	}
	if (evict)
		hconn_close(slot_owner(evict), "evicted: too many connections awaiting authentication");
	if (c == NULL || conn_init(n, c, sock, addr, cfg, true) != 0) {
		if (c)
			preauth_leave(n->preauth, &c->slot);
		free(c);
		skynet_error(n->ctx, "%s: out of memory accepting %s", n->tag, addr);
		skynet_socket_close(n->ctx, sock);
		return NULL;
	}
	c->accepted = true;
	c->connected = true;
	skynet_socket_start(n->ctx, sock);
	skynet_socket_nodelay(n->ctx, sock);
	return c;
}

struct hconn *hnet_connect(struct hnet *n, const char *hostport, const struct hconn_config *cfg)
{
	char host[256];
	int port;
	if (hnet_split_address(hostport, host, sizeof(host), &port) != 0) {
		skynet_error(n->ctx, "%s: bad address '%s' (want host:port)", n->tag, hostport);
		return NULL;
	}
	int sock = skynet_socket_connect(n->ctx, host, port);
	if (sock < 0) {
		skynet_error(n->ctx, "%s: cannot connect to %s", n->tag, hostport);
		return NULL;
	}
	struct hconn *c = calloc(1, sizeof(*c));
	if (c == NULL || conn_init(n, c, sock, hostport, cfg, false) != 0) {
		free(c);
		skynet_error(n->ctx, "%s: out of memory connecting to %s", n->tag, hostport);
		skynet_socket_close(n->ctx, sock);
		return NULL;
	}
	return c;
}

static struct hconn *find(struct hnet *n, int sock)
{
	for (struct hconn *c = n->bysock[sock_bucket(n, sock)]; c; c = c->hnext)
		if (c->sock == sock && !c->closing)
			return c;
	return NULL;
}

void hconn_close(struct hconn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = true;
	c->net->closing++;
	if (c->link && link_state(c->link) != LINK_CLOSED)
		link_close(c->link, reason, &c->out);
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	mark_dirty(c->net, c);
}

/* The link closed by itself (bad record, timeout, peer's CLOSE, end of stream). */
static void check_closed(struct hconn *c)
{
	if (!c->closing && c->link && link_state(c->link) == LINK_CLOSED) {
		c->closing = true;
		c->net->closing++;
		snprintf(c->reason, sizeof(c->reason), "%s", link_reason(c->link));
	}
}

static void flush_one(struct hnet *n, struct hconn *c)
{
	dirty_del(n, c);
	if (c->out.len == 0 || !c->connected)
		return;
	struct socket_sendbuffer b = {
		.id = c->sock,
		.type = SOCKET_BUFFER_MEMORY,
		.buffer = c->out.data,
		.sz = c->out.len,
	};
	/* The link buffer comes from realloc and skynet_free is free(): hand it over. */
	c->bytes_out += c->out.len;
	c->out.data = NULL;
	c->out.len = c->out.cap = 0;
	skynet_socket_sendbuffer(n->ctx, &b);
}

void hnet_reap(struct hnet *n)
{
	struct hconn **pp = &n->list;
	while (n->closing > 0 && *pp) {
		struct hconn *c = *pp;
		if (!c->closing) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		n->count--;
		n->closing--;
		sock_del(n, c);
		dirty_del(n, c);
		preauth_leave(n->preauth, &c->slot);
		flush_one(n, c);
		skynet_socket_close(n->ctx, c->sock);
		const struct link_identity *id = c->link ? link_peer(c->link) : NULL;
		if (c->accepted && id == NULL) { /* anyone can cause these: bounded */
			preauth_log_close(n->preauth, c->addr, c->reason);
		} else if (n->ops->label) {
			char label[192];
			n->ops->label(n->ud, c, label, sizeof(label));
			skynet_error(n->ctx, "%s: link %s closed: %s", n->tag, label, c->reason);
		} else if (id) {
			skynet_error(n->ctx, "%s: link to node %u (%s) closed: %s", n->tag, id->node_id,
			             c->addr, c->reason);
		} else { /* a peer we dial that is down retries with backoff: bounded */
			dial_log_failed(n->dials, n->ctx, n->tag, c->addr, c->reason, hnet_now_ms());
		}
		if (n->ops->closed)
			n->ops->closed(n->ud, c, c->reason);
		conn_free(c);
	}
}

int hnet_socket(struct hnet *n, const struct skynet_socket_message *m)
{
	struct hconn *c = find(n, m->id);
	if (c == NULL)
		return 0;
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA: {
		uint64_t now = hnet_now_ms();
		c->bytes_in += (uint64_t)m->ud;
		if (c->link == NULL) {
			/* the first bytes of an accepted connection: now it needs its link,
			 * whose handshake deadline still counts from the accept */
			c->cfg.handshake_ms = c->deadline > now ? c->deadline - now : 1;
			if (make_link(c, &c->cfg, now) != 0 || link_start(c->link, &c->out) != 0)
				hconn_close(c, "out of memory starting the handshake");
		}
		if (c->link && !c->closing)
			link_feed(c->link, (uint8_t *)m->buffer, (size_t)m->ud, now, &c->out);
		skynet_free(m->buffer);
		check_closed(c);
		mark_dirty(n, c);
		break;
	}
	case SKYNET_SOCKET_TYPE_CONNECT:
		if (!c->connected) {
			c->connected = true;
			skynet_socket_nodelay(n->ctx, c->sock);
			if (link_start(c->link, &c->out) != 0)
				hconn_close(c, "cannot start the handshake");
			flush_one(n, c);
		}
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
		if (c->connected && !c->closing)
			c->peer_ended = true;
		if (c->link == NULL)
			hconn_close(c, "connection ended during the handshake");
		else
			link_eof(c->link);
		check_closed(c);
		c->connected = false; /* nothing more can be written */
		dirty_del(n, c);
		break;
	case SKYNET_SOCKET_TYPE_ERROR: {
		const char *why = m->buffer ? m->buffer : (const char *)(m + 1);
		char r[160];
		snprintf(r, sizeof(r), "socket error: %s", why);
		if (c->connected && !c->closing)
			c->peer_ended = true; /* reset by the peer; a dial that never connected is not */
		hconn_close(c, r);
		c->connected = false;
		dirty_del(n, c);
		break;
	}
	case SKYNET_SOCKET_TYPE_WARNING:
		if (m->ud > 0)
			skynet_error(n->ctx, "%s: %d KiB waiting to be sent to %s", n->tag, m->ud, c->addr);
		break;
	default: break;
	}
	hnet_reap(n);
	return 1;
}

static void heartbeat(struct hconn *c, uint64_t now)
{
	Skiff__Link__Heartbeat hb = SKIFF__LINK__HEARTBEAT__INIT;
	hb.seq = ++c->hb_seq;
	hb.time_ms = now;
	if (frame_send(c->link, &c->out, LINK_TYPE_HEARTBEAT, &hb.base) == 0) {
		c->last_send = now;
		c->records_out++;
		c->hb_sent_us = now_us();
		mark_dirty(c->net, c);
	}
}

/* ms from now to `at`, 0 if it has passed */
static uint64_t ms_until(uint64_t at, uint64_t now)
{
	return at > now ? at - now : 0;
}

uint64_t hnet_tick(struct hnet *n, uint64_t heartbeat_ms, uint64_t timeout_ms)
{
	uint64_t now = hnet_now_ms();
	uint64_t next = heartbeat_ms; /* nothing is due later than a heartbeat period */
	for (struct hconn *c = n->list; c; c = c->next) {
		if (c->closing)
			continue;
		if (c->link == NULL) {
			if (now >= c->deadline)
				hconn_close(c, "handshake timed out (no HELLO from peer)");
			else if (c->deadline - now < next)
				next = c->deadline - now;
			continue;
		}
		link_tick(c->link, now);
		check_closed(c);
		if (c->closing)
			continue;
		if (link_state(c->link) != LINK_ESTABLISHED) {
			next = 0; /* a handshake in progress: its deadline is the link's */
			continue;
		}
		if (c->unwatched)
			continue;
		/* the socket thread's reads count: a backlog in our own queue (or the
		 * first moments after a SIGCONT) must not make a live peer look silent */
		uint64_t silent = link_silent_ms(c->link, now, skynet_socket_read_age_ms(c->sock));
		uint64_t since = now > c->watch_since ? now - c->watch_since : 0;
		if (since < silent)
			silent = since; /* unwatched until then: not silent before */
		if (timeout_ms && silent >= timeout_ms) {
			char r[96];
			snprintf(r, sizeof(r), "peer silent for %llu ms (heartbeat timeout)",
			         (unsigned long long)silent);
			hconn_close(c, r);
			continue;
		}
		if (now - c->last_send >= heartbeat_ms)
			heartbeat(c, now);
		uint64_t due = ms_until(c->last_send + heartbeat_ms, now);
		if (timeout_ms && timeout_ms - silent < due)
			due = timeout_ms - silent; /* when it would have been silent too long */
		if (due < next)
			next = due;
	}
	preauth_tick(n->preauth);
	hnet_reap(n);
	return next;
}

bool hnet_dirty(const struct hnet *n)
{
	return n->dirty != NULL;
}

void hnet_flush(struct hnet *n)
{
	while (n->dirty)
		flush_one(n, n->dirty);
}

int hconn_send(struct hconn *c, unsigned type, const ProtobufCMessage *msg)
{
	if (c->closing || c->link == NULL)
		return LINK_ESTATE;
	int rc = frame_send(c->link, &c->out, type, msg);
	if (rc == 0) {
		c->records_out++;
		c->last_send = hnet_now_ms();
		if (c->out.len >= HNET_FLUSH_HIGH)
			flush_one(c->net, c);
		else
			mark_dirty(c->net, c);
	}
	return rc;
}

void hconn_probe(struct hconn *c)
{
	if (!c->closing && c->link && link_state(c->link) == LINK_ESTABLISHED)
		heartbeat(c, hnet_now_ms());
}

void hconn_watch(struct hconn *c, bool on)
{
	if (on && c->unwatched)
		c->watch_since = hnet_now_ms();
	c->unwatched = !on;
}

bool hconn_open(const struct hconn *c)
{
	return !c->closing && c->link && link_state(c->link) == LINK_ESTABLISHED;
}

bool hconn_closing(const struct hconn *c)
{
	return c->closing;
}

const struct link_identity *hconn_peer(const struct hconn *c)
{
	return c->link ? link_peer(c->link) : NULL;
}
bool hconn_peer_ended(const struct hconn *c)
{
	return c->peer_ended;
}
const char *hconn_addr(const struct hconn *c)
{
	return c->addr;
}
void hconn_set_data(struct hconn *c, void *p)
{
	c->data = p;
}

void hconn_stats(const struct hconn *c, struct hconn_stats *st)
{
	st->records_in = c->records_in;
	st->records_out = c->records_out;
	st->bytes_in = c->bytes_in;
	st->bytes_out = c->bytes_out;
	st->last_recv_ms = c->link ? link_last_recv(c->link) : 0;
	st->rtt_us = c->rtt_us;
}
void *hconn_data(const struct hconn *c)
{
	return c->data;
}
