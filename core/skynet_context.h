/*
 * skynet_context.h — the service context, private to core/ (skynet_server.c and
 * skynet_command.c). Everyone else sees struct skynet_context as opaque.
 */
#ifndef SKYNET_CONTEXT_H
#define SKYNET_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "atomic.h"
#include "skynet.h"

struct skynet_module;
struct message_queue;

struct skynet_context {
	void *instance;
	struct skynet_module *mod;
	void *cb_ud;
	skynet_cb cb;
	struct message_queue *queue;
	_Atomic(FILE *) logfile;
	_Atomic uint64_t cpu_cost; /* in microsec; written by the dispatching worker only */
	uint64_t cpu_start;        /* in microsec */
	char result[32];
	uint32_t handle;
	int session_id;
	ATOM_INT ref;
	_Atomic size_t message_count; /* written by the dispatching worker only */
	bool init;
	ATOM_BOOL endless;
	bool profile;
};

#endif
