/*
 * skynet_metrics.h — runtime counters for operators (Prometheus /metrics, the
 * console). Collected on demand by walking the live services, so the message
 * path pays nothing beyond the per-service counters it already keeps.
 */
#ifndef SKYNET_METRICS_H
#define SKYNET_METRICS_H

#include <stdint.h>

#define SKYNET_METRICS_MODULES 32
#define SKYNET_METRICS_TOPQ 16

struct skynet_metrics_module {
	const char *name;  /* valid for the life of the process */
	int services;      /* alive now */
	uint64_t messages; /* dispatched, alive and gone */
	uint64_t cpu_us;   /* callback CPU time (with profile = true) */
};

struct skynet_metrics_queue {
	uint32_t handle;
	int length;
	const char *module;
};

struct skynet_metrics {
	int services;          /* contexts alive (logger and harbor included) */
	uint64_t messages;     /* dispatched in total */
	uint64_t cpu_us;       /* callback CPU time in total */
	uint64_t timer_events; /* timer expiries delivered */
	uint64_t overloads;    /* "May overload" warnings */
	int nmodule;
	struct skynet_metrics_module module[SKYNET_METRICS_MODULES];
	int nqueue; /* longest queues first */
	struct skynet_metrics_queue queue[SKYNET_METRICS_TOPQ];
};

/* Fill m; topn (<= SKYNET_METRICS_TOPQ) longest queues. Any thread. */
void skynet_metrics_collect(struct skynet_metrics *m, int topn);

/* Hooks for the runtime. */
void skynet_metrics_timer_event(void);
void skynet_metrics_overload(void);

#endif
