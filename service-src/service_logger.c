/*
 * service_logger.c — the default log sink.
 *
 * Param: a file name, or none for stdout. Config key `logformat` picks the
 * line format (documented in docs/logging.md):
 *   text   (default)  2026-11-26 23:45:01.23 INFO  1 [:0000000a] message
 *   json              {"ts":"2026-11-26T23:45:01.23Z","level":"info","node":1,
 *                      "source":":0000000a","msg":"message"}
 *   skynet            [:0000000a] message   (file mode: skynet's timestamp first)
 * Timestamps are UTC, to the centisecond, from the runtime clock. The level is
 * read from the text skynet_error was given, so existing services need no
 * change: a message starting with "error"/"Error"/"ERROR" (or holding
 * " error " / "error:" early, e.g. "lua call ... error") is an error, one with
 * "warn"/"WARN" a warning, anything else info.
 * PTYPE_SYSTEM (sent on SIGHUP) reopens the file, so log rotation works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "skynet.h"

enum log_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_SKYNET };

struct logger {
	FILE *handle;
	char *filename;
	uint32_t starttime;
	int close;
	int node;
	enum log_format format;
};

void *logger_create(void);
void logger_release(struct logger *inst);
int logger_init(struct logger *inst, struct skynet_context *ctx, const char *parm);

void *logger_create(void)
{
	struct logger *inst = skynet_calloc(1, sizeof(*inst));
	return inst;
}

void logger_release(struct logger *inst)
{
	if (inst->close)
		fclose(inst->handle);
	skynet_free(inst->filename);
	skynet_free(inst);
}

static const char *level_of(const char *msg, size_t sz)
{
	size_t n = sz < 48 ? sz : 48; /* look at the head of the line only */
	char head[49];
	memcpy(head, msg, n);
	head[n] = '\0';
	if (strncasecmp(head, "error", 5) == 0 || strstr(head, "error:") || strstr(head, "] error") ||
	    strstr(head, " error ") || strstr(head, " failed") || strstr(head, "FAILED"))
		return "error";
	if (strncasecmp(head, "warn", 4) == 0 || strstr(head, "WARN") || strstr(head, "warning"))
		return "warn";
	return "info";
}

/* "YYYY-MM-DD HH:MM:SS.cc" (sep ' ') or ISO 8601 (sep 'T'), UTC. */
static void timestamp(struct logger *inst, char *out, size_t sz, char sep)
{
	uint64_t now = skynet_now();
	time_t ti = inst->starttime + now / 100;
	struct tm info;
	gmtime_r(&ti, &info);
	char date[32];
	strftime(date, sizeof(date), sep == 'T' ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &info);
	snprintf(out, sz, "%s.%02d", date, (int)(now % 100));
}

static void skynet_stamp(struct logger *inst)
{
	uint64_t now = skynet_now();
	time_t ti = inst->starttime + now / 100;
	struct tm info;
	char tmp[64];
	localtime_r(&ti, &info);
	strftime(tmp, sizeof(tmp), "%d/%m/%y %H:%M:%S", &info);
	fprintf(inst->handle, "%s.%02d ", tmp, (int)(now % 100));
}

static void json_string(FILE *f, const char *s, size_t sz)
{
	fputc('"', f);
	for (size_t i = 0; i < sz; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void write_line(struct logger *inst, uint32_t source, const char *msg, size_t sz)
{
	FILE *f = inst->handle;
	char ts[48];
	/* one line at a time on the stream: a service's print (line_print in
	 * lualib-src/seed.c) writes stdout from other threads */
	flockfile(f);
	switch (inst->format) {
	case FORMAT_SKYNET:
		if (inst->filename)
			skynet_stamp(inst);
		fprintf(f, "[:%08x] ", source);
		fwrite(msg, sz, 1, f);
		fputc('\n', f);
		break;
	case FORMAT_JSON:
		timestamp(inst, ts, sizeof(ts), 'T');
		fprintf(f, "{\"ts\":\"%sZ\",\"level\":\"%s\",\"node\":%d,\"source\":\":%08x\",\"msg\":", ts,
		        level_of(msg, sz), inst->node, source);
		json_string(f, msg, sz);
		fputs("}\n", f);
		break;
	case FORMAT_TEXT: {
		const char *lv = level_of(msg, sz);
		timestamp(inst, ts, sizeof(ts), ' ');
		fprintf(f, "%s %-5s %d [:%08x] ", ts,
		        lv[0] == 'e'   ? "ERROR"
		        : lv[0] == 'w' ? "WARN"
		                       : "INFO",
		        inst->node, source);
		fwrite(msg, sz, 1, f);
		fputc('\n', f);
		break;
	}
	}
	fflush(f);
	funlockfile(f);
}

static int logger_cb(struct skynet_context *context, void *ud, int type, int session, uint32_t source,
                     const void *msg, size_t sz)
{
	struct logger *inst = ud;
	switch (type) {
	case PTYPE_SYSTEM:
		if (inst->filename) {
			FILE *f = freopen(inst->filename, "a", inst->handle);
			if (f)
				inst->handle = f;
		}
		break;
	case PTYPE_TEXT: write_line(inst, source, msg, sz); break;
	}

	return 0;
}

int logger_init(struct logger *inst, struct skynet_context *ctx, const char *parm)
{
	const char *r = skynet_command(ctx, "STARTTIME", NULL);
	inst->starttime = (uint32_t)strtoul(r, NULL, 10);
	const char *harbor = skynet_command(ctx, "GETENV", "harbor");
	inst->node = harbor ? atoi(harbor) : 0;
	const char *fmt = skynet_command(ctx, "GETENV", "logformat");
	if (fmt == NULL || strcmp(fmt, "text") == 0) {
		inst->format = FORMAT_TEXT;
	} else if (strcmp(fmt, "json") == 0) {
		inst->format = FORMAT_JSON;
	} else if (strcmp(fmt, "skynet") == 0) {
		inst->format = FORMAT_SKYNET;
	} else {
		fprintf(stderr,
		        "skiff: key 'logformat' must be \"text\", \"json\" or \"skynet\" (got '%s')\n", fmt);
		return 1;
	}
	if (parm && parm[0]) {
		inst->handle = fopen(parm, "a");
		if (inst->handle == NULL) {
			fprintf(stderr, "skiff: can't open log file %s (key 'logger')\n", parm);
			return 1;
		}
		inst->filename = skynet_malloc(strlen(parm) + 1);
		strcpy(inst->filename, parm);
		inst->close = 1;
	} else {
		inst->handle = stdout;
	}
	skynet_callback(ctx, inst, logger_cb);
	return 0;
}
