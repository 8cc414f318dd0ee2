/*
 * hcred — a harbor peer with a node credential, for the identity tests: a
 * compromised node (it holds node N's credential, secret included) that claims
 * another id, a node of another cluster, or a thief with a certificate but not
 * its secret.  It drives the real link code over TCP.
 *
 * usage: hcred MODE HOST PORT PURPOSE ID CLUSTER_PUB CREDENTIAL [KEYFILE]
 *   MODE     hello    full handshake claiming ID with CREDENTIAL
 *            stolen   the same, but with a fresh random secret in place of the
 *                     credential's (the certificate alone)
 *   PURPOSE  peer | master
 *   KEYFILE  a shared cluster key to mix in as well (optional)
 * Our end is established once it has sent its AUTH; the other side may still
 * refuse it then.  Prints one line: "ACCEPTED" when the link stayed up for a
 * second after that, or "EOF <ms> <state>" when the other side closed first
 * (state: handshake, established (closed without a word, as a refused AUTH
 * is), or closed:<reason> (a CLOSE record, or our own end refused)), or
 * "TIMEOUT".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "credential.h"
#include "keyfile.h"
#include "link.h"
#include "linktool.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int established;

int main(int argc, char **argv)
{
	if (argc < 8) {
		fprintf(stderr, "usage: hcred MODE HOST PORT PURPOSE ID CLUSTER_PUB CREDENTIAL [KEYFILE]\n");
		return 2;
	}
	const char *mode = argv[1];
	static struct link_credential cred;
	struct cred_cert cert;
	uint8_t key[LINK_KEY_BYTES];
	char err[400];
	if (sodium_init() < 0)
		return 2;
	if (cred_load_cluster_pub(argv[6], cred.cluster_pub, err, sizeof err) != 0 ||
	    cred_load_node(argv[7], NULL, 0, &cred, &cert, err, sizeof err) != 0 ||
	    (argc > 8 && keyfile_load(argv[8], key, err, sizeof err) != 0)) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (strcmp(mode, "stolen") == 0) {
		uint8_t pub[LINK_SIGN_PUBLIC];
		crypto_sign_keypair(pub, cred.node_secret);
	} else if (strcmp(mode, "hello") != 0) {
		fprintf(stderr, "hcred: unknown mode %s\n", mode);
		return 2;
	}
	int fd = tool_dial(argv[2], atoi(argv[3]));
	struct link_config cfg = {
		.role = LINK_INITIATOR,
		.purpose = strcmp(argv[4], "master") == 0 ? LINK_HARBOR_MASTER : LINK_HARBOR_PEER,
		.cluster_key = argc > 8 ? key : NULL,
		.credential = &cred,
		.on_established = tool_note_established,
		.on_record = tool_ignore_record,
		.ud = &established,
		.handshake_timeout_ms = 60000,
	};
	cfg.self.node_id = (uint32_t)strtoul(argv[5], NULL, 10);
	randombytes_buf(&cfg.self.incarnation, sizeof cfg.self.incarnation);
	snprintf(cfg.self.name, sizeof cfg.self.name, "node%u", cfg.self.node_id);
	uint64_t t0 = tool_now_ms();
	struct link *l = link_new(&cfg, t0);
	sodium_memzero(&cred, sizeof cred);
	if (l == NULL) {
		fprintf(stderr, "hcred: link_new refused the config\n");
		return 2;
	}
	struct link_buf out = { 0 };
	uint64_t est_at = 0;
	link_start(l, &out);
	for (;;) {
		if (out.len) {
			tool_write_all(fd, out.data, out.len);
			link_buf_consume(&out, out.len);
		}
		if (established && est_at == 0)
			est_at = tool_now_ms();
		if (est_at && tool_now_ms() - est_at > 1000 && link_state(l) == LINK_ESTABLISHED) {
			printf("ACCEPTED\n");
			return 0;
		}
		uint8_t buf[65536];
		long n = tool_read(fd, buf, sizeof buf, 200, t0 + 30000);
		if (n == 0)
			continue;
		if (n < 0) {
			char st[300];
			printf("EOF %llu %s\n", (unsigned long long)(tool_now_ms() - t0),
			       tool_link_state(l, established, st, sizeof st));
			return 0;
		}
		link_feed(l, buf, (size_t)n, tool_now_ms(), &out);
	}
}
