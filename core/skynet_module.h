/*
 * skynet_module.h — C service modules (shared objects found through `cpath`).
 */
#ifndef SKYNET_MODULE_H
#define SKYNET_MODULE_H

#include <stdint.h>

struct skynet_context;

typedef void *(*skynet_dl_create)(void);
typedef int (*skynet_dl_init)(void *inst, struct skynet_context *, const char *parm);
typedef void (*skynet_dl_release)(void *inst);
typedef void (*skynet_dl_signal)(void *inst, int signal);

struct skynet_module {
	const char *name;
	void *module;
	skynet_dl_create create;
	skynet_dl_init init;
	skynet_dl_release release;
	skynet_dl_signal signal;
	/* Totals of services of this module that are gone (metrics). */
	_Atomic uint64_t retired_messages;
	_Atomic uint64_t retired_cpu_us;
};

/* NULL when no template of the path finds a loadable module with an _init. */
struct skynet_module *skynet_module_query(const char *name);
void *skynet_module_instance_create(struct skynet_module *);
int skynet_module_instance_init(struct skynet_module *, void *inst, struct skynet_context *ctx,
                                const char *parm);
void skynet_module_instance_release(struct skynet_module *, void *inst);
void skynet_module_instance_signal(struct skynet_module *, void *inst, int signal);

/* path: ';'-separated templates, each containing '?'. Returns -1 (and reports)
 * if a template has no '?'. */
int skynet_module_init(const char *path);
/* Loaded modules, for metrics: index 0..count-1. */
int skynet_module_count(void);
struct skynet_module *skynet_module_get(int index);
void skynet_module_exit(void);

#endif
