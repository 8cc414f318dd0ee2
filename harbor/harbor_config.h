/*
 * harbor_config.h — the config keys the harbor service and the master share:
 *   harbor               this node's id, 1..255
 *   cluster_key          path of the shared key file (keyfile.h)
 *   cluster_pub          path of the cluster public key file (credential.h)
 *   node_credential      path of this node's credential file (credential.h)
 * At least cluster_key, or cluster_pub and node_credential, must be set; the
 * credential must name this node's id.  With both, both are required of peers.
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
	bool has_key, has_cred;
	uint8_t key[LINK_KEY_BYTES];
	struct link_credential cred;
	uint64_t timeout_ms;
	uint64_t heartbeat_ms;
	size_t max_message;
	uint64_t name_timeout_ms;
};

/* Reads and checks the keys; on error logs one line naming the problem and
 * returns -1. */
int harbor_config_load(struct skynet_context *ctx, const char *who, struct harbor_config *cfg);
/* What struct hconn_config wants: NULL when the mode is not configured. */
const uint8_t *harbor_config_key(const struct harbor_config *cfg);
const struct link_credential *harbor_config_cred(const struct harbor_config *cfg);
/* Wipes the keys. */
void harbor_config_wipe(struct harbor_config *cfg);

#endif
