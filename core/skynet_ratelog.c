/*
 * skynet_ratelog.c — rate-limited log lines (see skynet_ratelog.h).
 *
 * Invariant: `suppressed` counts only events of the window that began at
 * `start_ms`; a summary is written before a new window starts, so no count is
 * carried into a window it does not belong to.
 */
#include "skynet_ratelog.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "skynet.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void skynet_ratelog_init(struct skynet_ratelog *r, const char *what, uint32_t burst, uint64_t window_ms)
{
	r->what = what;
	r->burst = burst ? burst : 1;
	r->window_ms = window_ms ? window_ms : SKYNET_RATELOG_WINDOW_MS;
	r->logged = 0;
	r->suppressed = 0;
	r->start_ms = 0;
	r->total = 0;
}

/* Ends the current window if it is over: writes its summary, if any. */
static void roll(struct skynet_context *ctx, struct skynet_ratelog *r, uint64_t now)
{
	if (r->start_ms == 0 || now - r->start_ms < r->window_ms)
		return;
	if (r->suppressed)
		skynet_error(ctx, "%s: %llu more like this in the last %llu s", r->what,
		             (unsigned long long)r->suppressed,
		             (unsigned long long)((now - r->start_ms + 999) / 1000));
	r->start_ms = 0;
	r->logged = 0;
	r->suppressed = 0;
}

void skynet_ratelog(struct skynet_context *ctx, struct skynet_ratelog *r, const char *fmt, ...)
{
	uint64_t now = mono_ms();
	r->total++;
	roll(ctx, r, now);
	if (r->start_ms == 0)
		r->start_ms = now ? now : 1;
	if (r->logged >= r->burst) {
		r->suppressed++;
		return;
	}
	r->logged++;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	skynet_error(ctx, "%s", line);
}

void skynet_ratelog_flush(struct skynet_context *ctx, struct skynet_ratelog *r)
{
	if (r->suppressed)
		roll(ctx, r, mono_ms());
}
