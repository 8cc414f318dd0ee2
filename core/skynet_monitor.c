/*
 * skynet_monitor.c — endless-loop detection.
 *
 * The worker bumps `version` at the start and end of every message. If two
 * checks (5 s apart) see the same version while a destination is set, one
 * message has been running all that time: the service is flagged endless and
 * an error is logged. Detection is advisory; snlua can be interrupted with the
 * SIGNAL command.
 */
#include "skynet_monitor.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"
#include "skynet_server.h"

struct skynet_monitor {
	atomic_int version;
	int check_version;
	_Atomic uint32_t source;
	_Atomic uint32_t destination;
};

struct skynet_monitor *skynet_monitor_new(void)
{
	struct skynet_monitor *ret = skynet_calloc(1, sizeof(*ret));
	return ret;
}

void skynet_monitor_free(struct skynet_monitor *sm)
{
	skynet_free(sm);
}

void skynet_monitor_trigger(struct skynet_monitor *sm, uint32_t source, uint32_t destination)
{
	atomic_store_explicit(&sm->source, source, memory_order_relaxed);
	atomic_store_explicit(&sm->destination, destination, memory_order_relaxed);
	atomic_fetch_add_explicit(&sm->version, 1, memory_order_release);
}

void skynet_monitor_check(struct skynet_monitor *sm)
{
	int version = atomic_load_explicit(&sm->version, memory_order_acquire);
	if (version == sm->check_version) {
		uint32_t destination = atomic_load_explicit(&sm->destination, memory_order_relaxed);
		if (destination) {
			uint32_t source = atomic_load_explicit(&sm->source, memory_order_relaxed);
			skynet_context_endless(destination);
			skynet_error(
				NULL,
				"error: A message from [ :%08x ] to [ :%08x ] maybe in an endless loop (version = %d)",
				source, destination, version);
		}
	} else {
		sm->check_version = version;
	}
}
