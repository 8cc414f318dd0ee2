/*
 * dial_log.h — the log of outgoing connections that fail, per address.
 *
 * A node that dials a peer that is down (the master during an outage, a name
 * that does not resolve) retries with backoff; logging every attempt filled
 * the log with hundreds of identical lines.  Here each address has a state:
 * the first failure, and any failure whose reason differs from the last one,
 * logs one line; further failures are counted and logged as one line per
 * DIAL_LOG_PERIOD_MS ("still cannot reach ... N attempts"); the first success
 * after failures logs one line ("reached ... again").  So a long outage costs
 * a few lines and every attempt is counted.
 *
 * Invariant: at most DIAL_LOG_SLOTS addresses are tracked; when full, the
 * address heard of least recently is forgotten (its next failure logs again).
 * Not thread-safe: one owner (the hnet of one service).
 */
#ifndef SKIFF_DIAL_LOG_H
#define SKIFF_DIAL_LOG_H

#include <stdint.h>

struct skynet_context;
struct dial_log;

#define DIAL_LOG_PERIOD_MS 10000
#define DIAL_LOG_SLOTS 16

struct dial_log *dial_log_new(void);
void dial_log_free(struct dial_log *d);
/* An outgoing connection to `addr` failed before it was authenticated. */
void dial_log_failed(struct dial_log *d, struct skynet_context *ctx, const char *tag, const char *addr,
                     const char *reason, uint64_t now_ms);
/* An outgoing connection to `addr` was authenticated. */
void dial_log_up(struct dial_log *d, struct skynet_context *ctx, const char *tag, const char *addr,
                 uint64_t now_ms);

#endif
