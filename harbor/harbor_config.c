/*
 * harbor_config.c — reading the harbor keys (see harbor_config.h).
 */
#include "harbor_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "credential.h"
#include "keyfile.h"
#include "skynet.h"

static int number(struct skynet_context *ctx, const char *who, const char *key, double def, double lo,
                  double hi, double *out)
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
		skynet_error(ctx, "%s: config key '%s' must be a number from %g to %g (got '%s')", who, key,
		             lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

bool harbor_node_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > HARBOR_NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int harbor_config_load(struct skynet_context *ctx, const char *who, struct harbor_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	double id, timeout, maxmsg, nametimeout;
	if (number(ctx, who, "harbor", 0, 0, 255, &id) ||
	    number(ctx, who, "harbor_timeout", 5, 0.2, 3600, &timeout) ||
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
	const char *label = skynet_command(ctx, "GETENV", "harbor_name");
	if (label && *label) {
		if (!harbor_node_name_valid(label)) {
			skynet_error(ctx,
			             "%s: config key 'harbor_name' must be 1..%d characters of "
			             "A-Z a-z 0-9 _ . - (got '%s')",
			             who, HARBOR_NODE_NAME_MAX, label);
			return -1;
		}
		snprintf(cfg->name, sizeof(cfg->name), "%s", label);
	} else {
		snprintf(cfg->name, sizeof(cfg->name), "node%d", cfg->id);
	}
	const char *path = skynet_command(ctx, "GETENV", "cluster_key");
	const char *pub = skynet_command(ctx, "GETENV", "cluster_pub");
	const char *cred = skynet_command(ctx, "GETENV", "node_credential");
	bool want_key = path && *path, want_pub = pub && *pub, want_cred = cred && *cred;
	char err[320];
	if (!want_key && !want_pub && !want_cred) {
		skynet_error(ctx,
		             "%s: when harbor is not 0, config key 'cluster_pub' and "
		             "'node_credential' (per-node identity: skiff --genkey cluster DIR, then "
		             "skiff --genkey node --id N ...) or 'cluster_key' (shared key, every holder "
		             "trusted with everything: skiff --genkey FILE) is required",
		             who);
		return -1;
	}
	if (want_pub != want_cred) {
		skynet_error(ctx,
		             "%s: config keys 'cluster_pub' and 'node_credential' go together; "
		             "only '%s' is set",
		             who, want_pub ? "cluster_pub" : "node_credential");
		return -1;
	}
	if (want_key) {
		if (keyfile_load(path, cfg->key, err, sizeof(err)) != 0) {
			skynet_error(ctx, "%s: cluster_key: %s", who, err);
			return -1;
		}
		cfg->has_key = true;
	}
	if (want_pub) {
		struct cred_cert cert;
		if (cred_load_cluster_pub(pub, cfg->cred.cluster_pub, err, sizeof(err)) != 0) {
			skynet_error(ctx, "%s: cluster_pub: %s", who, err);
			goto fail;
		}
		if (cred_load_node(cred, cfg->cred.cluster_pub, (uint64_t)time(NULL), &cfg->cred, &cert, err,
		                   sizeof(err)) != 0) {
			skynet_error(ctx, "%s: node_credential: %s", who, err);
			goto fail;
		}
		if (cert.node_id != (uint32_t)cfg->id) {
			if (cert.node_id == 0)
				skynet_error(ctx,
				             "%s: node_credential: %s is for cluster node name '%s', "
				             "not harbor id %d",
				             who, cred, cert.name, cfg->id);
			else
				skynet_error(ctx,
				             "%s: node_credential: %s is for node id %u, this node "
				             "is harbor %d",
				             who, cred, cert.node_id, cfg->id);
			goto fail;
		}
		cfg->has_cred = true;
	}
	return 0;
fail:
	harbor_config_wipe(cfg);
	return -1;
}

const uint8_t *harbor_config_key(const struct harbor_config *cfg)
{
	return cfg->has_key ? cfg->key : NULL;
}

const struct link_credential *harbor_config_cred(const struct harbor_config *cfg)
{
	return cfg->has_cred ? &cfg->cred : NULL;
}

void harbor_config_wipe(struct harbor_config *cfg)
{
	sodium_memzero(cfg->key, sizeof(cfg->key));
	sodium_memzero(&cfg->cred, sizeof(cfg->cred));
}
