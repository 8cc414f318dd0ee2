/*
 * skynet_monitor.h — per-worker records the monitor thread uses to spot a
 * message that runs for too long (an endless loop).
 */
#ifndef SKYNET_MONITOR_H
#define SKYNET_MONITOR_H

#include <stdint.h>

struct skynet_monitor;

struct skynet_monitor *skynet_monitor_new(void);
void skynet_monitor_free(struct skynet_monitor *);
/* Called by the worker at the start (source, destination) and end (0, 0) of
 * each message. */
void skynet_monitor_trigger(struct skynet_monitor *, uint32_t source, uint32_t destination);
/* Called by the monitor thread every few seconds. */
void skynet_monitor_check(struct skynet_monitor *);

#endif
