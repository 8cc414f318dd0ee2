/*
 * credential.h — per-node identity: the cluster signing key pair, node
 * certificates, and the files that hold them.
 *
 * Roles:
 *   - The operator makes one cluster signing key pair (skiff --genkey cluster DIR)
 *     and keeps DIR/cluster.secret off the nodes.  DIR/cluster.pub goes to every
 *     node (config key `cluster_pub`).
 *   - For each node the operator issues a credential (skiff --genkey node --id N
 *     or --name NAME --signer DIR/cluster.secret FILE): a fresh node key pair and
 *     a certificate binding the node's public key to id N (harbor) or to NAME
 *     (cluster), signed by the cluster secret.  FILE goes to that node only
 *     (config key `node_credential`).
 * A node holding its credential can prove its own id and nothing else: the
 * handshake checks the certificate against the id or name the peer claims.
 *
 * Certificate (binary, all integers big endian; LINK_CERT_MAX bytes at most):
 *     magic     "SKC1"                 4 bytes
 *     version   1                      1 byte
 *     node_id   u32                    harbor id; 0 for a name certificate
 *     expires   u64                    unix seconds; 0 = never
 *     name_len  u8                     0..63; 0 exactly when node_id != 0
 *     name      printable ASCII        name_len bytes
 *     node_pub  Ed25519 public key     32 bytes
 *     sig       Ed25519 signature      64 bytes, by the cluster secret key, over
 *                                      every byte before it
 * An id certificate (node_id != 0) has no name; a name certificate has id 0.
 *
 * Files (text, one item per line, '\n' ends each line, hex in lower or upper case):
 *     cluster.secret  mode 0600/0400   "skiff cluster secret v1\n" <64 hex: Ed25519 seed>
 *     cluster.pub     any mode         "skiff cluster public v1\n" <64 hex: public key>
 *     node credential mode 0600/0400   "skiff node credential v1\n"
 *                                      "secret " <64 hex: the node's Ed25519 seed> "\n"
 *                                      "cert " <hex of the certificate> "\n"
 * Every file must be a regular file; loading names the file and what is wrong.
 */
#ifndef SKIFF_CREDENTIAL_H
#define SKIFF_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

#define CRED_CERT_FIXED 114 /* certificate bytes besides the name */
#define CRED_NAME_MAX 63

/* A certificate's fields after parsing. */
struct cred_cert {
	uint32_t node_id;
	uint64_t expires;
	char name[CRED_NAME_MAX + 1];
	uint8_t node_pub[LINK_SIGN_PUBLIC];
};

/* Checks the layout only (no signature).  0, or -1 with a reason in err. */
int cred_cert_parse(const uint8_t *cert, size_t n, struct cred_cert *out, char *err, size_t errlen);
/* Parses, then checks the cluster's signature and expiry at `unix_now`. */
int cred_cert_verify(const uint8_t *cert, size_t n, const uint8_t cluster_pub[LINK_SIGN_PUBLIC],
                     uint64_t unix_now, struct cred_cert *out, char *err, size_t errlen);
/* Builds and signs a certificate into out[LINK_CERT_MAX]; returns its length,
 * 0 if the id/name pair is invalid (exactly one of them must be set). */
size_t cred_cert_make(uint32_t node_id, const char *name, uint64_t expires,
                      const uint8_t node_pub[LINK_SIGN_PUBLIC],
                      const uint8_t cluster_secret[LINK_SIGN_SECRET], uint8_t *out);

/* File loaders.  0, or -1 with a message naming the file in err. */
int cred_load_cluster_pub(const char *path, uint8_t pub[LINK_SIGN_PUBLIC], char *err, size_t errlen);
int cred_load_cluster_secret(const char *path, uint8_t secret[LINK_SIGN_SECRET], char *err, size_t errlen);
/* Loads a node credential into out->node_secret/cert/cert_len (cluster_pub is
 * not touched).  The certificate is parsed into *cert and its public key must
 * match the secret.  When `cluster_pub` is not NULL the signature and expiry
 * are checked too, so a credential from another cluster fails at start-up. */
int cred_load_node(const char *path, const uint8_t *cluster_pub, uint64_t unix_now,
                   struct link_credential *out, struct cred_cert *cert, char *err, size_t errlen);

/* Writes dir/cluster.secret (0600) and dir/cluster.pub (0644); dir is created
 * (0700) if missing; refuses to overwrite either file. */
int cred_generate_cluster(const char *dir, char *err, size_t errlen);
/* Issues a node credential signed with the cluster secret at signer_path into a
 * new file `path` (0600).  Exactly one of node_id (!= 0) and name (non-empty). */
int cred_generate_node(const char *signer_path, uint32_t node_id, const char *name, uint64_t expires,
                       const char *path, char *err, size_t errlen);

#endif
