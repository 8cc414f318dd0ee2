/*
 * skynet_command.c — skynet_command: the text command interface services use to
 * talk to the runtime (timers, names, launch, env, stats, logs, signals).
 *
 * Return values live in ctx->result (32 bytes) and stay valid until the same
 * context issues its next command; NULL means "no result" or failure.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"
#include "skynet_context.h"
#include "skynet_env.h"
#include "skynet_handle.h"
#include "skynet_harbor.h"
#include "skynet_log.h"
#include "skynet_module.h"
#include "skynet_mq.h"
#include "skynet_server.h"
#include "skynet_timer.h"

uint32_t skynet_queryname(struct skynet_context *context, const char *name)
{
	switch (name[0]) {
	case ':': return strtoul(name + 1, NULL, 16);
	case '.': return skynet_handle_findname(name + 1);
	}
	skynet_error(context, "Don't support query global name %s", name);
	return 0;
}

static const char *cmd_timeout(struct skynet_context *context, const char *param)
{
	char *session_ptr = NULL;
	int ti = (int)strtol(param, &session_ptr, 10);
	int session = skynet_context_newsession(context);
	skynet_timeout(context->handle, ti, session);
	sprintf(context->result, "%d", session);
	return context->result;
}

static const char *cmd_reg(struct skynet_context *context, const char *param)
{
	if (param == NULL || param[0] == '\0') {
		sprintf(context->result, ":%x", context->handle);
		return context->result;
	} else if (param[0] == '.') {
		return skynet_handle_namehandle(context->handle, param + 1);
	} else {
		skynet_error(context, "Can't register global name %s in C", param);
		return NULL;
	}
}

static const char *cmd_query(struct skynet_context *context, const char *param)
{
	if (param && param[0] == '.') {
		uint32_t handle = skynet_handle_findname(param + 1);
		if (handle) {
			sprintf(context->result, ":%x", handle);
			return context->result;
		}
	}
	return NULL;
}

static const char *cmd_name(struct skynet_context *context, const char *param)
{
	if (param == NULL)
		return NULL;
	size_t size = strlen(param);
	char name[size + 1];
	char handle[size + 1];
	/* name and handle are as long as param: %s cannot overflow them */
	// cppcheck-suppress invalidscanf
	if (sscanf(param, "%s %s", name, handle) != 2)
		return NULL;
	if (handle[0] != ':')
		return NULL;
	uint32_t handle_id = strtoul(handle + 1, NULL, 16);
	if (handle_id == 0)
		return NULL;
	if (name[0] == '.') {
		return skynet_handle_namehandle(handle_id, name + 1);
	} else {
		skynet_error(context, "Can't set global name %s in C", name);
	}
	return NULL;
}

static const char *cmd_exit(struct skynet_context *context, const char *param)
{
	skynet_handle_exit_service(context, 0);
	return NULL;
}

static uint32_t tohandle(struct skynet_context *context, const char *param)
{
	uint32_t handle = 0;
	if (param == NULL)
		return 0;
	if (param[0] == ':') {
		handle = strtoul(param + 1, NULL, 16);
	} else if (param[0] == '.') {
		handle = skynet_handle_findname(param + 1);
	} else {
		skynet_error(context, "Can't convert %s to handle", param);
	}

	return handle;
}

/* The service that param names (as tohandle reads it), with a reference the
 * caller releases, and its handle in *handle; NULL if there is none. */
static struct skynet_context *grab_param(struct skynet_context *context, const char *param, uint32_t *handle)
{
	*handle = tohandle(context, param);
	return *handle ? skynet_handle_grab(*handle) : NULL;
}

static const char *cmd_kill(struct skynet_context *context, const char *param)
{
	uint32_t handle = tohandle(context, param);
	if (handle)
		skynet_handle_exit_service(context, handle);
	return NULL;
}

static const char *cmd_launch(struct skynet_context *context, const char *param)
{
	if (param == NULL)
		return NULL;
	size_t sz = strlen(param);
	char tmp[sz + 1];
	strcpy(tmp, param);
	char *args = tmp;
	char *mod = strsep(&args, " \t\r\n");
	if (args)
		args = strsep(&args, "\r\n");
	/* the handle, not the pointer: the new service may already be gone */
	uint32_t h = skynet_context_launch(mod, args);
	if (h == 0) {
		return NULL;
	} else {
		/* ":%08X" — uppercase, padded (quirk kept: REG/QUERY use ":%x"). */
		snprintf(context->result, sizeof(context->result), ":%08X", h);
		return context->result;
	}
}

static const char *cmd_getenv(struct skynet_context *context, const char *param)
{
	if (param == NULL)
		return NULL;
	return skynet_getenv(param);
}

static const char *cmd_setenv(struct skynet_context *context, const char *param)
{
	if (param == NULL)
		return NULL;
	size_t sz = strlen(param);
	char key[sz + 1];
	int i;
	for (i = 0; param[i] != ' ' && param[i]; i++)
		key[i] = param[i];
	if (param[i] == '\0')
		return NULL;

	key[i] = '\0';
	param += i + 1;

	if (skynet_setenv(key, param) != 0)
		skynet_error(context, "Can't setenv exist key %s", key);
	return NULL;
}

static const char *cmd_starttime(struct skynet_context *context, const char *param)
{
	uint32_t sec = skynet_starttime();
	sprintf(context->result, "%u", sec);
	return context->result;
}

/* ABORT [status]: stop the node; Skiff extension: the process exits with
 * `status` (default 0), so a node whose start-up failed says so to its shell. */
static const char *cmd_abort(struct skynet_context *context, const char *param)
{
	if (param && param[0])
		skynet_set_exit_status((int)strtol(param, NULL, 10));
	skynet_handle_retireall();
	return NULL;
}

static const char *cmd_monitor(struct skynet_context *context, const char *param)
{
	uint32_t handle = 0;
	if (param == NULL || param[0] == '\0') {
		uint32_t m = skynet_monitor_exit_handle();
		if (m) {
			/* return current monitor serivce */
			sprintf(context->result, ":%x", m);
			return context->result;
		}
		return NULL;
	} else {
		handle = tohandle(context, param);
	}
	skynet_set_monitor_exit_handle(handle);
	return NULL;
}

static const char *cmd_stat(struct skynet_context *context, const char *param)
{
	if (param == NULL) {
		context->result[0] = '\0';
		return context->result;
	}
	if (strcmp(param, "mqlen") == 0) {
		int len = skynet_mq_length(context->queue);
		sprintf(context->result, "%d", len);
	} else if (strcmp(param, "endless") == 0) {
		if (ATOM_LOAD(&context->endless)) {
			strcpy(context->result, "1");
			ATOM_STORE(&context->endless, false);
		} else {
			strcpy(context->result, "0");
		}
	} else if (strcmp(param, "cpu") == 0) {
		double t = (double)atomic_load(&context->cpu_cost) / 1000000.0; /* microsec */
		sprintf(context->result, "%lf", t);
	} else if (strcmp(param, "time") == 0) {
		if (context->profile) {
			uint64_t ti = skynet_thread_time() - context->cpu_start;
			double t = (double)ti / 1000000.0; /* microsec */
			sprintf(context->result, "%lf", t);
		} else {
			strcpy(context->result, "0");
		}
	} else if (strcmp(param, "message") == 0) {
		sprintf(context->result, "%zu", (size_t)atomic_load(&context->message_count));
	} else {
		context->result[0] = '\0';
	}
	return context->result;
}

static const char *cmd_logon(struct skynet_context *context, const char *param)
{
	uint32_t handle;
	struct skynet_context *ctx = grab_param(context, param, &handle);
	if (ctx == NULL)
		return NULL;
	FILE *f = NULL;
	FILE *lastf = ATOM_LOAD(&ctx->logfile);
	if (lastf == NULL) {
		f = skynet_log_open(context, handle);
		if (f) {
			FILE *expected = NULL;
			if (!atomic_compare_exchange_strong(&ctx->logfile, &expected, f)) {
				/* logfile opens in other thread, close this one. */
				fclose(f);
			}
		}
	}
	skynet_context_release(ctx);
	return NULL;
}

static const char *cmd_logoff(struct skynet_context *context, const char *param)
{
	uint32_t handle;
	struct skynet_context *ctx = grab_param(context, param, &handle);
	if (ctx == NULL)
		return NULL;
	FILE *f = ATOM_LOAD(&ctx->logfile);
	if (f) {
		/* logfile may close in other thread */
		if (atomic_compare_exchange_strong(&ctx->logfile, &f, (FILE *)NULL))
			skynet_log_close(context, f, handle);
	}
	skynet_context_release(ctx);
	return NULL;
}

static const char *cmd_signal(struct skynet_context *context, const char *param)
{
	uint32_t handle;
	struct skynet_context *ctx = grab_param(context, param, &handle);
	if (ctx == NULL)
		return NULL;
	param = strchr(param, ' ');
	int sig = 0;
	if (param)
		sig = (int)strtol(param, NULL, 0);
	/* NOTICE: the signal function should be thread safe. */
	skynet_module_instance_signal(ctx->mod, ctx->instance, sig);

	skynet_context_release(ctx);
	return NULL;
}

/* Skiff: a node-local global name for single-node mode ("NAME :hex"). */
static const char *cmd_harborname(struct skynet_context *context, const char *param)
{
	if (param == NULL)
		return NULL;
	char name[GLOBALNAME_LENGTH + 1];
	const char *sp = strchr(param, ' ');
	if (sp == NULL || (size_t)(sp - param) >= sizeof(name) || sp == param)
		return NULL;
	memcpy(name, param, sp - param);
	name[sp - param] = '\0';
	uint32_t h = tohandle(context, sp + 1);
	if (h == 0)
		return NULL;
	if (skynet_harbor_localname_bind(name, h) != 0)
		return NULL;
	snprintf(context->result, sizeof(context->result), ":%x", h);
	return context->result;
}

struct command_func {
	const char *name;
	const char *(*func)(struct skynet_context *context, const char *param);
};

static const struct command_func cmd_funcs[] = {
	{ "TIMEOUT", cmd_timeout },
	{ "REG", cmd_reg },
	{ "QUERY", cmd_query },
	{ "NAME", cmd_name },
	{ "EXIT", cmd_exit },
	{ "KILL", cmd_kill },
	{ "LAUNCH", cmd_launch },
	{ "GETENV", cmd_getenv },
	{ "SETENV", cmd_setenv },
	{ "STARTTIME", cmd_starttime },
	{ "ABORT", cmd_abort },
	{ "MONITOR", cmd_monitor },
	{ "STAT", cmd_stat },
	{ "LOGON", cmd_logon },
	{ "LOGOFF", cmd_logoff },
	{ "SIGNAL", cmd_signal },
	{ "HARBORNAME", cmd_harborname },
	{ NULL, NULL },
};

const char *skynet_command(struct skynet_context *context, const char *cmd, const char *param)
{
	const struct command_func *method = &cmd_funcs[0];
	while (method->name) {
		if (strcmp(cmd, method->name) == 0)
			return method->func(context, param);
		++method;
	}

	return NULL;
}
