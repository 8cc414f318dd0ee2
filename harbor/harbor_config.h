/*
 * harbor_config.h — the config keys the harbor service and the master share:
 *   harbor               this node's id, 1..255
 *   cluster_key          path of the key file (keyfile.h); required
 *   harbor_timeout       seconds of silence before a peer is declared down [5]
 *   harbor_max_message   largest message that crosses nodes, bytes [16 MiB]
 *   harbor_name_timeout  seconds a message may wait for an unknown name [10]
 */
#ifndef SKIFF_HARBOR_CONFIG_H
#define SKIFF_HARBOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

#define HARBOR_MASTER_MAX_RECORD ((size_t)1024 * 1024)   /* node <-> master frames */
#define GLOBAL_NAME_MAX 15                                  /* bytes of a global name */
#define HARBOR_DATA_OVERHEAD 64                            /* Data fields around a payload */

struct skynet_context;

struct harbor_config {
	int id;
	uint8_t key[LINK_KEY_BYTES];
	uint64_t timeout_ms;
	uint64_t heartbeat_ms;
	size_t max_message;
	uint64_t name_timeout_ms;
};

/* Reads and checks the keys; on error logs one line naming the problem and
 * returns -1. */
int harbor_config_load(struct skynet_context *ctx, const char *who, struct harbor_config *cfg);
/* Wipes the key. */
void harbor_config_wipe(struct harbor_config *cfg);

#endif
