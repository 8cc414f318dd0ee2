/*
 * peer.h — secure links over the socket layer, for a service that owns many.
 *
 * A `struct hnet` is the set of links of one service (the harbor service, the
 * harbor master, the cluster service).  Each `struct hconn` is one TCP
 * connection running a secure link (link.h).  The owner hands every
 * PTYPE_SOCKET message to hnet_socket(); hnet feeds the bytes to the right
 * link, swallows heartbeats, and calls the owner back:
 *     established(ud, c)            the peer proved its identity (may close c)
 *     record(ud, c, type, data, n)  one frame (type >= 16), valid during the call
 *     closed(ud, c, reason)         c is gone: the owner forgets its pointer
 *     label(ud, c, buf, n)          optional: names c in its close log line
 *                                   ("<tag>: link <label> closed: <reason>");
 *                                   without it: "to node <id> (<address>)"
 *
 * Batching: records are sealed into the connection's output buffer and reach
 * the socket only at hnet_flush(), which hands each buffer to the socket layer
 * whole (no copy).  The owner flushes when its message queue is empty, so one
 * write carries every frame produced while the queue drained.  A buffer past
 * HNET_FLUSH_HIGH is flushed at once so memory stays bounded.  The set keeps
 * a list of the connections with bytes to write, so hnet_dirty() is O(1) and
 * hnet_flush() costs one step per such connection, however many links idle.
 *
 * Closing is deferred: hconn_close() (also from inside a callback) marks the
 * connection; hnet_reap() — run at the end of hnet_socket() and hnet_tick(), and
 * by the owner after anything else that may close — flushes what is left,
 * closes the socket, calls `closed` and frees it.  Every close is logged once
 * with the peer address and the reason.
 *
 * Unauthenticated connections: every line about one that was accepted goes
 * through a rate limiter (skynet_ratelog.h); see preauth.h for the limits.
 *
 * Liveness: hnet_tick() enforces handshake deadlines, sends a heartbeat on any
 * watched established link that sent nothing for `heartbeat_ms`, and closes
 * watched links that received nothing for `timeout_ms`.  A heartbeat probe is
 * answered with a reply (Heartbeat.reply), whose arrival measures the link's
 * round trip; the reply counts as a send, so of two ends that both watch a
 * silent link only one probes.  Every link is watched until its owner says
 * otherwise (hconn_watch): an owner that learns of a peer's death another
 * way (the harbor: from its master) unwatches the links on which it waits
 * for nothing, and an idle mesh then costs nothing per link.  Silence on a
 * link watched again counts from that moment, not from its last record.
 */
#ifndef SKIFF_PEER_H
#define SKIFF_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "link.h"

#define HNET_FLUSH_HIGH (256 * 1024)

struct skynet_context;
struct skynet_socket_message;
struct hnet;
struct hconn;

struct hconn_ops {
	void (*established)(void *ud, struct hconn *c);
	void (*record)(void *ud, struct hconn *c, unsigned type, uint8_t *data, size_t len);
	void (*closed)(void *ud, struct hconn *c, const char *reason);
	void (*label)(void *ud, const struct hconn *c, char *buf, size_t size); /* may be NULL */
	/* may be NULL: the first record (a heartbeat included) came on c, before
	 * it is handled; the peer has taken the link, not just finished the
	 * handshake */
	void (*first_record)(void *ud, struct hconn *c);
};

struct hconn_config {
	enum link_role role;
	enum link_purpose purpose;
	struct link_identity self;
	const uint8_t *cluster_key;               /* LINK_KEY_BYTES, copied by the link; may be NULL.  An
	                               * accepted connection makes its link at its first
	                               * byte, so the key and the credential must stay put
	                               * while the hnet lives */
	const struct link_credential *credential; /* per-node identity; NULL: none */
	size_t max_record;
	uint64_t handshake_ms;
};

/* `tag` names the set in log lines ("harbor", "harbor master", "cluster").
 * NULL when out of memory or the pre-auth limits in the config are bad (logged). */
struct hnet *hnet_new(struct skynet_context *ctx, const char *tag, const struct hconn_ops *ops, void *ud);
/* Closes every connection without callbacks; accepts NULL. */
void hnet_free(struct hnet *n);

uint64_t hnet_now_ms(void);

/* A connection accepted on a listen socket (the ACCEPT event): starts reading.
 * It is admitted first (preauth.h: per-source and total limits on connections
 * that have not authenticated, config keys preauth_per_source / preauth_max);
 * NULL when refused (closed at once, logged rate-limited) or out of memory. */
struct hconn *hnet_accept(struct hnet *n, int sock, const char *addr, const struct hconn_config *cfg);
/* An outgoing connection to host:port; NULL when it fails at once (logged). */
struct hconn *hnet_connect(struct hnet *n, const char *hostport, const struct hconn_config *cfg);

/* 1 if the socket event belonged to one of our connections (it is consumed,
 * DATA buffers freed), 0 otherwise (the caller handles and frees it). */
int hnet_socket(struct hnet *n, const struct skynet_socket_message *m);
/* Returns the ms until it has work again (a heartbeat or a silence deadline
 * of a watched link, a handshake deadline), at most heartbeat_ms; 0 while a
 * handshake runs (call it at the caller's busy period then). */
uint64_t hnet_tick(struct hnet *n, uint64_t heartbeat_ms, uint64_t timeout_ms);
/* Hands every non-empty output buffer to the socket layer. */
void hnet_flush(struct hnet *n);
bool hnet_dirty(const struct hnet *n);
void hnet_reap(struct hnet *n);

/* Seals msg as one record; LINK_* error (LINK_ETOOBIG: over max_record). */
int hconn_send(struct hconn *c, unsigned type, const ProtobufCMessage *msg);
void hconn_close(struct hconn *c, const char *reason);
bool hconn_open(const struct hconn *c);    /* established and not closing */
bool hconn_closing(const struct hconn *c); /* closed, waiting for hnet_reap */
const struct link_identity *hconn_peer(const struct hconn *c);
const char *hconn_addr(const struct hconn *c);
/* Whether the peer ended c (end of stream or reset) after the socket was up,
 * as opposed to our own close, a timeout or a dial that never connected: a
 * process that did that is alive, if busy (it shed the connection at its
 * pre-auth limit, or refused it). */
bool hconn_peer_ended(const struct hconn *c);
void hconn_set_data(struct hconn *c, void *p);
/* Sends a heartbeat probe now (its reply is the peer's first record if it
 * sent none yet). */
void hconn_probe(struct hconn *c);
/* Heartbeats and the silence timeout on c (on, the default) or not (off). */
void hconn_watch(struct hconn *c, bool on);
void *hconn_data(const struct hconn *c);

/* Counters of one connection since it was created. */
struct hconn_stats {
	uint64_t records_in, records_out; /* sealed records, heartbeats included */
	uint64_t bytes_in, bytes_out;     /* bytes read from / handed to the socket */
	uint64_t last_recv_ms;            /* hnet_now_ms() when a record last arrived */
	int64_t rtt_us;                   /* last heartbeat round trip; -1: none yet */
};
void hconn_stats(const struct hconn *c, struct hconn_stats *st);

/* "host:port" -> host (NUL terminated in buf) and port; -1 if malformed. */
int hnet_split_address(const char *hostport, char *host, size_t hostsz, int *port);

#endif
