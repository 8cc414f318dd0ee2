/*
 * skynet_ratelog.h — log lines for events that someone outside can trigger at
 * will (refused connections, failed accepts), with a bounded rate.
 *
 * A `struct skynet_ratelog` lets `burst` lines through per window of
 * `window_ms`; the rest are only counted.  Once a window in which lines were
 * swallowed is over, the next call (or skynet_ratelog_flush, from a timer) logs
 * one summary line
 *     "<what>: N more like this in the last T s"
 * so the log holds at most burst + 1 lines per window and every event is
 * counted.  Not thread-safe: each limiter has one owner (a service, or the
 * socket thread).
 */
#ifndef SKYNET_RATELOG_H
#define SKYNET_RATELOG_H

#include <stdint.h>

struct skynet_context;

struct skynet_ratelog {
	const char *what; /* static text naming the kind of event, for the summary */
	uint64_t window_ms;
	uint32_t burst;      /* lines logged per window */
	uint32_t logged;     /* lines logged in the current window */
	uint64_t suppressed; /* lines swallowed in the current window */
	uint64_t start_ms;   /* start of the current window; 0: none yet */
	uint64_t total;      /* events since init, logged or not */
};

#define SKYNET_RATELOG_BURST 10
#define SKYNET_RATELOG_WINDOW_MS 10000

void skynet_ratelog_init(struct skynet_ratelog *r, const char *what, uint32_t burst, uint64_t window_ms);
/* One event: logs the line (through skynet_error) if the window allows it. */
void skynet_ratelog(struct skynet_context *ctx, struct skynet_ratelog *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Logs the summary of a finished window that swallowed lines; cheap otherwise. */
void skynet_ratelog_flush(struct skynet_context *ctx, struct skynet_ratelog *r);

#endif
