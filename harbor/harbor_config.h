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
 *   harbor_remote_debug  true: PTYPE_DEBUG messages may cross nodes [false]
 *   harbor_name          this node's label in status, logs and metrics, 1..31
 *                        of [A-Za-z0-9_.-] [node<id>]; it travels in the link
 *                        handshake and with the master's node table
 */
#ifndef SKIFF_HARBOR_CONFIG_H
#define SKIFF_HARBOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "skynet.h"

#define HARBOR_MASTER_MAX_RECORD ((size_t)1024 * 1024) /* node <-> master frames */
#define GLOBAL_NAME_MAX 15                             /* bytes of a global name */
#define HARBOR_DATA_OVERHEAD 64                        /* Data fields around a payload */
#define HARBOR_NODE_NAME_MAX 31                        /* bytes of harbor_name */
_Static_assert(HARBOR_NODE_NAME_MAX <= LINK_NAME_MAX, "harbor_name fits the link identity");

struct harbor_config {
	int id;
	bool has_key, has_cred;
	uint8_t key[LINK_KEY_BYTES];
	struct link_credential cred;
	uint64_t timeout_ms;
	uint64_t heartbeat_ms;
	size_t max_message;
	uint64_t name_timeout_ms;
	bool remote_debug;
	char name[HARBOR_NODE_NAME_MAX + 1];
};

/* A node label as harbor_name allows (peers' labels are checked the same way
 * before they are shown: STATS is space-separated). */
bool harbor_node_name_valid(const char *name);

/* Why a message of `type` may not cross a node boundary, or NULL if it may.
 * The same rule holds at the sender (the message never leaves) and at the
 * receiver (a peer that sends one anyway is refused):
 *   - MULTICAST, SOCKET and SYSTEM payloads hold pointers into the sending
 *     process (a multicast package, a socket buffer, a remote_message);
 *   - HARBOR is the local control channel of the harbor service;
 *   - DEBUG runs code in the service and inspects it (debug RUN, INFO, ...):
 *     it crosses only between nodes whose configs both set
 *     harbor_remote_debug = true (each side applies its own setting);
 *   - a type outside 0..255 is no skynet type at all.
 * RESPONSE and ERROR do cross: they answer calls made across nodes, and their
 * payloads are plain bytes (ERROR's is empty). */
static inline const char *harbor_type_refused(int type, bool remote_debug)
{
	switch (type) {
	case PTYPE_MULTICAST: return "PTYPE_MULTICAST carries a pointer into the sending process";
	case PTYPE_SYSTEM: return "PTYPE_SYSTEM is local to a node";
	case PTYPE_HARBOR: return "PTYPE_HARBOR is local to a node";
	case PTYPE_SOCKET: return "PTYPE_SOCKET carries a pointer into the sending process";
	case PTYPE_RESERVED_DEBUG:
		return remote_debug ? NULL : "PTYPE_DEBUG crosses nodes only with harbor_remote_debug = true";
	default: return type < 0 || type > 255 ? "not a message type" : NULL;
	}
}

/* Reads and checks the keys; on error logs one line naming the problem and
 * returns -1. */
int harbor_config_load(struct skynet_context *ctx, const char *who, struct harbor_config *cfg);
/* What struct hconn_config wants: NULL when the mode is not configured. */
const uint8_t *harbor_config_key(const struct harbor_config *cfg);
const struct link_credential *harbor_config_cred(const struct harbor_config *cfg);
/* Wipes the keys. */
void harbor_config_wipe(struct harbor_config *cfg);

#endif
