/*
 * harbor_config.c — reading the harbor keys (see harbor_config.h).
 */
#include "harbor_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keyfile.h"
#include "skynet.h"

static int number(struct skynet_context *ctx, const char *who, const char *key, double def,
                  double lo, double hi, double *out)
{
	const char *s = skynet_command(ctx, "GETENV", key);
	if (s == NULL || *s == '\0') {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || v < lo || v > hi) {
		skynet_error(ctx, "%s: config key '%s' must be a number from %g to %g (got '%s')", who,
		             key, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int harbor_config_load(struct skynet_context *ctx, const char *who, struct harbor_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	double id, timeout, maxmsg, nametimeout;
	if (number(ctx, who, "harbor", 0, 0, 255, &id) || number(ctx, who, "harbor_timeout", 5, 0.2, 3600, &timeout) ||
	    number(ctx, who, "harbor_max_message", 16 * 1024 * 1024, 1, 64.0 * 1024 * 1024, &maxmsg) ||
	    number(ctx, who, "harbor_name_timeout", 10, 0.1, 86400, &nametimeout))
		return -1;
	cfg->id = (int)id;
	cfg->timeout_ms = (uint64_t)(timeout * 1000);
	cfg->heartbeat_ms = cfg->timeout_ms / 5;
	if (cfg->heartbeat_ms > 1000)
		cfg->heartbeat_ms = 1000;
	if (cfg->heartbeat_ms < 20)
		cfg->heartbeat_ms = 20;
	cfg->max_message = (size_t)maxmsg;
	cfg->name_timeout_ms = (uint64_t)(nametimeout * 1000);
	const char *dbg = skynet_command(ctx, "GETENV", "harbor_remote_debug");
	if (dbg && *dbg && strcmp(dbg, "true") != 0 && strcmp(dbg, "false") != 0) {
		skynet_error(ctx, "%s: config key 'harbor_remote_debug' must be true or false (got '%s')",
		             who, dbg);
		return -1;
	}
	cfg->remote_debug = dbg && strcmp(dbg, "true") == 0;
	const char *path = skynet_command(ctx, "GETENV", "cluster_key");
	if (path == NULL || *path == '\0') {
		skynet_error(ctx, "%s: config key 'cluster_key' is required when harbor is not 0 "
		             "(make one with: skiff --genkey FILE)", who);
		return -1;
	}
	char err[256];
	if (keyfile_load(path, cfg->key, err, sizeof(err)) != 0) {
		skynet_error(ctx, "%s: cluster_key: %s", who, err);
		return -1;
	}
	return 0;
}

void harbor_config_wipe(struct harbor_config *cfg) { sodium_memzero(cfg->key, sizeof(cfg->key)); }
