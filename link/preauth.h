/*
 * preauth.h — admission of connections that have not authenticated yet.
 *
 * Anyone who can reach a peer port (harbor node, harbor master, cluster) can
 * open connections without knowing a key.  Until its handshake proves the key,
 * a connection is "pre-auth" and holds a slot here; the owner admits every
 * accepted connection with preauth_enter() and gives the slot back with
 * preauth_leave() when the link authenticates or closes.  Outgoing
 * connections (ours) never take a slot.
 *
 * Limits (config keys, read by preauth_limits_load):
 *   preauth_per_source  pre-auth connections one source may hold [32]
 *                       (an IPv4 address, or an IPv6 /64)
 *   preauth_max         pre-auth connections in total on this service [512,
 *                       or a quarter of the process's fd limit if lower]
 * A connection over its source's limit is refused at once (the caller closes
 * it before reading a byte).  At the total limit the OLDEST pre-auth
 * connection is evicted to make room: a flood from many addresses then churns
 * through its own stale connections while a real peer, whose handshake takes a
 * round trip or two, still gets through.  Every decision is O(1).
 *
 * Refusals, evictions and pre-auth closes are logged through rate limiters
 * (skynet_ratelog.h): a few lines per window, then one line with the count.
 * Single-threaded: owned by one service.
 */
#ifndef SKIFF_PREAUTH_H
#define SKIFF_PREAUTH_H

#include <stdbool.h>
#include <stdint.h>

struct skynet_context;
struct preauth;
struct preauth_source;

#define PREAUTH_PER_SOURCE_DEFAULT 32
#define PREAUTH_MAX_DEFAULT 512

struct preauth_limits {
	uint32_t per_source;
	uint32_t total;
};

/* Embedded in the owner's connection; zero-initialised means "holds no slot". */
struct preauth_slot {
	struct preauth_slot *prev, *next; /* admission order, oldest first */
	struct preauth_source *src;       /* NULL: holds no slot */
};

/* Reads preauth_per_source / preauth_max (defaults above).  A bad value is
 * logged once, naming the key, and returns -1. */
int preauth_limits_load(struct skynet_context *ctx, struct preauth_limits *lim);

/* `tag` prefixes the log lines ("harbor", "harbor master", "cluster"). */
struct preauth *preauth_new(struct skynet_context *ctx, const char *tag, const struct preauth_limits *lim);
/* Accepts NULL.  Slots still held are forgotten (their owners are going too). */
void preauth_free(struct preauth *p);

/* A connection from `addr` ("ip:port" or "[ip6]:port") was accepted.
 * Returns false if its source is over its limit: the caller closes it at once
 * (the refusal is counted and logged here).  Returns true when `s` now holds a
 * slot; *evict is then NULL or the oldest slot, already released here, whose
 * connection the caller must close (logged here as well). */
bool preauth_enter(struct preauth *p, struct preauth_slot *s, const char *addr, struct preauth_slot **evict);
/* For an owner that allocates the connection (and its slot) only once it is
 * admitted: false (counted and logged) when `addr`'s source is over its limit,
 * so the caller closes it at once; true means preauth_enter will admit it. */
bool preauth_check(struct preauth *p, const char *addr);
/* The connection authenticated or closed.  Idempotent. */
void preauth_leave(struct preauth *p, struct preauth_slot *s);

/* Logs "<tag>: connection <addr> refused/closed before authentication:
 * <reason>" through the pre-auth close limiter. */
void preauth_log_close(struct preauth *p, const char *addr, const char *reason);
/* From the owner's timer: writes the pending "N more like this" summaries. */
void preauth_tick(struct preauth *p);

struct preauth_stats {
	uint32_t held;    /* slots held now */
	uint64_t refused; /* over a source's limit */
	uint64_t evicted; /* pushed out at the total limit */
};
void preauth_stats(const struct preauth *p, struct preauth_stats *st);

#endif
