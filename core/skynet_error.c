/*
 * skynet_error.c — skynet_error: format a line and send it to the service named
 * `logger` as PTYPE_TEXT (no trailing NUL counted). Dropped if there is no
 * logger yet.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"
#include "skynet_handle.h"
#include "skynet_mq.h"
#include "skynet_server.h"

#define LOG_MESSAGE_SIZE 256

static _Atomic uint32_t logger_handle = 0;

static uint32_t find_logger(void)
{
	uint32_t logger = atomic_load_explicit(&logger_handle, memory_order_relaxed);
	if (logger == 0) {
		logger = skynet_handle_findname("logger");
		atomic_store_explicit(&logger_handle, logger, memory_order_relaxed);
	}
	return logger;
}

void skynet_error(struct skynet_context *context, const char *msg, ...)
{
	uint32_t logger = find_logger();
	if (logger == 0)
		return;

	char tmp[LOG_MESSAGE_SIZE];
	char *data = NULL;

	va_list ap;

	va_start(ap, msg);
	int len = vsnprintf(tmp, LOG_MESSAGE_SIZE, msg, ap);
	va_end(ap);
	if (len < 0) {
		perror("vsnprintf error :");
		return;
	}
	if (len < LOG_MESSAGE_SIZE) {
		data = skynet_malloc(len + 1);
		memcpy(data, tmp, len + 1);
	} else {
		data = skynet_malloc(len + 1);
		va_start(ap, msg);
		vsnprintf(data, len + 1, msg, ap);
		va_end(ap);
	}

	struct skynet_message smsg;
	if (context == NULL)
		smsg.source = 0;
	else
		smsg.source = skynet_context_handle(context);
	smsg.session = 0;
	smsg.data = data;
	smsg.sz = len | ((size_t)PTYPE_TEXT << MESSAGE_TYPE_SHIFT);
	if (skynet_context_push(logger, &smsg) != 0) {
		/* The logger is gone (shutdown): forget its handle, drop the line. */
		atomic_store_explicit(&logger_handle, 0, memory_order_relaxed);
		skynet_free(data);
	}
}
