/*
 * cred_test.c — per-node identity: handshakes with node credentials (valid,
 * for another id or name, from another cluster, expired, garbled, stolen
 * without its secret, mixed modes) and the credential files (made by the
 * generators, loaded back, and every kind of bad file refused with a message
 * naming the file).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "credential.h"
#include "linkpair.h"

#define NOW 1800000000u /* a fixed unix time for expiry checks */

struct ca {
	uint8_t pub[LINK_SIGN_PUBLIC], sec[LINK_SIGN_SECRET];
};

static void ca_new(struct ca *ca)
{
	crypto_sign_keypair(ca->pub, ca->sec);
}

/* A credential for id (or name) signed by `signer`, trusting `trust`. */
static void cred_new(struct link_credential *c, const struct ca *signer, const struct ca *trust, uint32_t id,
                     const char *name, uint64_t expires)
{
	uint8_t pub[LINK_SIGN_PUBLIC];
	memset(c, 0, sizeof *c);
	crypto_sign_keypair(pub, c->node_secret);
	c->cert_len = cred_cert_make(id, name, expires, pub, signer->sec, c->cert);
	CHECK(c->cert_len > 0);
	memcpy(c->cluster_pub, trust->pub, sizeof c->cluster_pub);
}

/* Runs a handshake of an initiator claiming (iid, iname) with credential ic
 * against a responder claiming (rid, rname) with rc.  Returns 0 if both ends
 * are established; otherwise the reasons are in ri/rr. */
static int handshake(enum link_purpose purpose, uint32_t iid, const char *iname,
                     const struct link_credential *ic, const uint8_t *ikey, uint32_t rid, const char *rname,
                     const struct link_credential *rc, const uint8_t *rkey, char *ri, char *rr)
{
	struct pair_end i, r;
	end_init_cred(&i, LINK_INITIATOR, purpose, iid, iname, 1, ikey, ic, NOW, 0);
	end_init_cred(&r, LINK_RESPONDER, purpose, rid, rname, 2, rkey, rc, NOW, 0);
	int rc_ = pair_handshake(&i, &r, 0, 0);
	snprintf(ri, 300, "%s", link_reason(i.l));
	snprintf(rr, 300, "%s", link_reason(r.l));
	if (rc_ == 0) {
		CHECK(link_peer(i.l)->node_id == rid && strcmp(link_peer(i.l)->name, rname) == 0);
		CHECK(link_peer(r.l)->node_id == iid && strcmp(link_peer(r.l)->name, iname) == 0);
		/* and records flow both ways */
		CHECK(link_seal(i.l, &i.out, 16, "ping", 4) == LINK_OK);
		CHECK(link_seal(r.l, &r.out, 17, "pong", 4) == LINK_OK);
		pair_pump(&i, &r, 0, 0);
		CHECK(i.nrec == 1 && r.nrec == 1);
	} else {
		CHECK(i.established == 0 || r.established == 0);
		CHECK(r.nrec == 0 && i.nrec == 0);
	}
	end_free(&i);
	end_free(&r);
	return rc_;
}

static void expect_refused(const char *ri, const char *rr, const char *needle)
{
	if (strstr(ri, needle) == NULL && strstr(rr, needle) == NULL) {
		fprintf(stderr, "expected '%s' in: initiator '%s' / responder '%s'\n", needle, ri, rr);
		exit(1);
	}
}

static void test_handshakes(void)
{
	struct ca ca, other;
	struct link_credential c1, c2, c3, evil2, old2, stolen2, g1, g2, longname;
	uint8_t key[LINK_KEY_BYTES], key2[LINK_KEY_BYTES];
	char ri[300], rr[300];

	ca_new(&ca);
	ca_new(&other);
	randombytes_buf(key, sizeof key);
	randombytes_buf(key2, sizeof key2);
	cred_new(&c1, &ca, &ca, 1, NULL, 0);
	cred_new(&c2, &ca, &ca, 2, NULL, NOW + 10);
	cred_new(&c3, &ca, &ca, 3, NULL, 0);

	/* valid, with and without a shared key, harbor peer and master purposes */
	CHECK(handshake(LINK_HARBOR_PEER, 1, "node1", &c1, NULL, 2, "node2", &c2, NULL, ri, rr) == 0);
	CHECK(handshake(LINK_HARBOR_PEER, 1, "node1", &c1, key, 2, "node2", &c2, key, ri, rr) == 0);
	CHECK(handshake(LINK_HARBOR_MASTER, 3, "node3", &c3, NULL, 1, "master", &c1, NULL, ri, rr) == 0);

	/* a credential for id 2 while claiming id 3: the responder refuses it ... */
	CHECK(handshake(LINK_HARBOR_PEER, 3, "node3", &c2, NULL, 1, "node1", &c1, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "peer claims node id 3 but its credential is for node id 2");
	/* ... and so does the initiator when the responder lies */
	CHECK(handshake(LINK_HARBOR_PEER, 1, "node1", &c1, NULL, 3, "node3", &c2, NULL, ri, rr) != 0);
	CHECK(strstr(ri, "peer claims node id 3 but its credential is for node id 2") != NULL);

	/* signed by another cluster's key */
	cred_new(&evil2, &other, &ca, 2, NULL, 0);
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &evil2, NULL, 1, "node1", &c1, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "not signed by this cluster's key");
	/* a node trusting another cluster refuses ours */
	struct link_credential c1_other = c1;
	memcpy(c1_other.cluster_pub, other.pub, sizeof other.pub);
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &c2, NULL, 1, "node1", &c1_other, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "not signed by this cluster's key");

	/* expired (NOW + 10 is still fine above; this one ended at NOW) */
	cred_new(&old2, &ca, &ca, 2, NULL, NOW);
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &old2, NULL, 1, "node1", &c1, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "certificate expired");

	/* a stolen certificate without its secret key */
	stolen2 = c2;
	uint8_t junk_pub[LINK_SIGN_PUBLIC];
	crypto_sign_keypair(junk_pub, stolen2.node_secret);
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &stolen2, NULL, 1, "node1", &c1, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "does not hold the secret key");

	/* mixed modes fail with a message that says so, either way round */
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", NULL, key, 1, "node1", &c1, key, ri, rr) != 0);
	expect_refused(ri, rr, "peer presented a node credential but this node has none");
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &c2, key, 1, "node1", NULL, key, ri, rr) != 0);
	expect_refused(ri, rr, "peer presented no node credential");
	/* credentials plus shared keys that differ */
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &c2, key, 1, "node1", &c1, key2, ri, rr) != 0);
	expect_refused(ri, rr, "bad AUTH");
	CHECK(handshake(LINK_HARBOR_PEER, 2, "node2", &c2, key, 1, "node1", &c1, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "bad AUTH");

	/* cluster mode: name credentials, the longest name still fits pre-auth */
	cred_new(&g1, &ca, &ca, 0, "game1", 0);
	cred_new(&g2, &ca, &ca, 0, "game2", 0);
	CHECK(handshake(LINK_CLUSTER, 0, "game1", &g1, NULL, 0, "game2", &g2, NULL, ri, rr) == 0);
	CHECK(handshake(LINK_CLUSTER, 0, "game3", &g1, NULL, 0, "game2", &g2, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "peer claims node id 0 name 'game3' but its credential is for name 'game1'");
	/* a name credential does not prove an id, nor an id credential a name */
	CHECK(handshake(LINK_HARBOR_PEER, 5, "game1", &g1, NULL, 1, "node1", &c1, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "credential is for name 'game1'");
	CHECK(handshake(LINK_CLUSTER, 0, "node1", &c1, NULL, 0, "game2", &g2, NULL, ri, rr) != 0);
	expect_refused(ri, rr, "peer claims node id 0 but its credential is for node id 1");
	char big[64];
	memset(big, 'n', 63);
	big[63] = '\0';
	cred_new(&longname, &ca, &ca, 0, big, 0);
	CHECK(longname.cert_len == LINK_CERT_MAX);
	CHECK(handshake(LINK_CLUSTER, 0, big, &longname, NULL, 0, "game2", &g2, NULL, ri, rr) == 0);

	/* A garbled own certificate is a config error: link_new refuses it. */
	struct link_config cfg = { .role = LINK_INITIATOR,
		                   .purpose = LINK_HARBOR_PEER,
		                   .self = { .node_id = 1 },
		                   .credential = &c1,
		                   .on_record = (link_record_fn *)1 };
	struct link_credential bad = c1;
	bad.cert[0] ^= 1;
	cfg.credential = &bad;
	CHECK(link_new(&cfg, 0) == NULL);
	bad = c1;
	bad.cert_len = LINK_CERT_MAX + 1;
	CHECK(link_new(&cfg, 0) == NULL);
	cfg.credential = NULL; /* neither key nor credential */
	CHECK(link_new(&cfg, 0) == NULL);

	sodium_memzero(&c1, sizeof c1);
	sodium_memzero(&c2, sizeof c2);
}

/* Garbage in transit: the responder's certificate altered on the way (AUTH is
 * not in the transcript, so only the certificate checks catch this). */
static void test_garbled_in_transit(void)
{
	struct ca ca;
	struct link_credential c1, c2;
	ca_new(&ca);
	cred_new(&c1, &ca, &ca, 1, NULL, 0);
	cred_new(&c2, &ca, &ca, 2, NULL, 0);
	struct {
		size_t off; /* offset into the certificate */
		const char *reason;
	} cases[] = {
		{ 4, "not a version 1 Skiff node certificate" }, /* version byte */
		{ 0, "not a version 1 Skiff node certificate" }, /* magic */
		{ 17, "does not match its name length" },        /* name length */
		{ 8, "not signed by this cluster's key" },       /* node id */
		{ 30, "not signed by this cluster's key" },      /* node key */
		{ 60, "not signed by this cluster's key" },      /* signature */
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct pair_end i, r;
		end_init_cred(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "n1", 1, NULL, &c1, NOW, 0);
		end_init_cred(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "n2", 2, NULL, &c2, NOW, 0);
		CHECK(link_start(i.l, &i.out) == LINK_OK && link_start(r.l, &r.out) == LINK_OK);
		end_send(&i, &r, 0, 0);
		/* r.out: HELLO_R AUTH_R; find the certificate by its bytes */
		uint8_t *p = NULL;
		for (size_t off = 0; p == NULL && off + c2.cert_len <= r.out.len; off++)
			if (memcmp(r.out.data + off, c2.cert, c2.cert_len) == 0)
				p = r.out.data + off;
		CHECK(p != NULL);
		p[cases[k].off] ^= 0x40;
		end_send(&r, &i, 0, 0);
		CHECK(link_state(i.l) == LINK_CLOSED);
		if (strstr(link_reason(i.l), cases[k].reason) == NULL) {
			fprintf(stderr, "case %zu: '%s'\n", k, link_reason(i.l));
			exit(1);
		}
		end_free(&i);
		end_free(&r);
	}
}

/* ---- files ------------------------------------------------------------------ */

static char dir[] = "/tmp/skiff-cred-XXXXXX";
static char path[512], err[512];
static uint64_t load_now = NOW;

static void put(const char *name, const char *text, mode_t mode)
{
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

static char *slurp(const char *p)
{
	static char buf[2048];
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	CHECK(n > 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void node_refused(const uint8_t *pub, const char *needle)
{
	struct link_credential c;
	struct cred_cert cert;
	memset(&c, 0xaa, sizeof c); /* a refusal leaves no secret behind */
	err[0] = '\0';
	CHECK(cred_load_node(path, pub, load_now, &c, &cert, err, sizeof err) == -1);
	if (strstr(err, path) == NULL || strstr(err, needle) == NULL) {
		fprintf(stderr, "expected '%s' naming %s, got '%s'\n", needle, path, err);
		exit(1);
	}
	CHECK(sodium_is_zero(c.node_secret, sizeof c.node_secret));
}

static void test_files(void)
{
	char p_sec[600], p_pub[600], p_n2[600], p_g[600];
	uint8_t pub[LINK_SIGN_PUBLIC], sec[LINK_SIGN_SECRET], pub2[LINK_SIGN_PUBLIC];
	struct link_credential c;
	struct cred_cert cert;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(cred_generate_cluster(dir, err, sizeof err) == 0);
	snprintf(p_sec, sizeof p_sec, "%s/cluster.secret", dir);
	snprintf(p_pub, sizeof p_pub, "%s/cluster.pub", dir);
	CHECK(stat(p_sec, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(p_pub, &st) == 0 && (st.st_mode & 07777) == 0644);
	/* never overwrites */
	CHECK(cred_generate_cluster(dir, err, sizeof err) == -1 && strstr(err, "File exists"));
	CHECK(cred_load_cluster_pub(p_pub, pub, err, sizeof err) == 0);
	CHECK(cred_load_cluster_secret(p_sec, sec, err, sizeof err) == 0);
	CHECK(memcmp(sec + 32, pub, 32) == 0); /* the pair belongs together */

	snprintf(p_n2, sizeof p_n2, "%s/node2.cred", dir);
	CHECK(cred_generate_node(p_sec, 2, NULL, 0, p_n2, err, sizeof err) == 0);
	CHECK(stat(p_n2, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(cred_load_node(p_n2, pub, NOW, &c, &cert, err, sizeof err) == 0);
	CHECK(cert.node_id == 2 && cert.name[0] == '\0' && cert.expires == 0);
	CHECK(cred_generate_node(p_sec, 2, NULL, 0, p_n2, err, sizeof err) == -1);
	snprintf(p_g, sizeof p_g, "%s/game1.cred", dir);
	CHECK(cred_generate_node(p_sec, 0, "game1", NOW + 100, p_g, err, sizeof err) == 0);
	CHECK(cred_load_node(p_g, pub, NOW, &c, &cert, err, sizeof err) == 0);
	CHECK(cert.node_id == 0 && strcmp(cert.name, "game1") == 0 && cert.expires == NOW + 100);
	/* expired at load time */
	snprintf(path, sizeof path, "%s", p_g);
	load_now = NOW + 200;
	node_refused(pub, "certificate expired");
	load_now = NOW;
	/* without the cluster key to check against, only the layout is checked */
	CHECK(cred_load_node(p_g, NULL, NOW + 200, &c, &cert, err, sizeof err) == 0);
	/* neither or both of id and name */
	snprintf(path, sizeof path, "%s/x.cred", dir);
	CHECK(cred_generate_node(p_sec, 0, NULL, 0, path, err, sizeof err) == -1);
	CHECK(cred_generate_node(p_sec, 3, "x", 0, path, err, sizeof err) == -1);
	CHECK(cred_generate_node(p_sec, 0, "has space", 0, path, err, sizeof err) == -1);
	CHECK(access(path, F_OK) != 0);
	/* signing with the public file is refused (it is not a secret file) */
	CHECK(cred_generate_node(p_pub, 4, NULL, 0, path, err, sizeof err) == -1);
	CHECK(strstr(err, p_pub) != NULL);

	/* a credential from another cluster */
	char d2[600];
	snprintf(d2, sizeof d2, "%s/other", dir);
	CHECK(cred_generate_cluster(d2, err, sizeof err) == 0);
	snprintf(path, sizeof path, "%s/other/cluster.pub", dir);
	CHECK(cred_load_cluster_pub(path, pub2, err, sizeof err) == 0);
	snprintf(path, sizeof path, "%s", p_n2);
	node_refused(pub2, "not signed by this cluster's key");

	/* bad node credential files */
	char good[1024];
	snprintf(good, sizeof good, "%s", slurp(p_n2));
	char *nl1 = strchr(good, '\n'), *nl2 = strchr(nl1 + 1, '\n');
	char text[1200];
	put("mode.cred", good, 0640);
	node_refused(pub, "group or others may access it (mode 0640)");
	put("head.cred", "skiff node credential v2\nsecret 00\ncert 00\n", 0600);
	node_refused(pub, "line 1 must be");
	snprintf(text, sizeof text, "%.*ssecret zz%s", (int)(nl1 - good + 1), good, nl1 + 10);
	put("hex.cred", text, 0600);
	node_refused(pub, "line 2 must be");
	snprintf(text, sizeof text, "%.*s", (int)(nl2 - good + 1), good);
	put("nocert.cred", text, 0600);
	node_refused(pub, "line 3 must be");
	snprintf(text, sizeof text, "%sextra\n", good);
	put("extra.cred", text, 0600);
	node_refused(pub, "malformed");
	snprintf(text, sizeof text, "%.*scert 00112233\n", (int)(nl2 - good + 1), good);
	put("shortcert.cred", text, 0600);
	node_refused(pub, "certificate of 4 bytes");
	/* the certificate of one credential with the secret of another */
	char g1[1024];
	snprintf(g1, sizeof g1, "%s", slurp(p_g));
	char *gnl1 = strchr(g1, '\n'), *gnl2 = strchr(gnl1 + 1, '\n');
	snprintf(text, sizeof text, "%.*s%s", (int)(gnl2 - g1 + 1), g1, nl2 + 1);
	put("swap.cred", text, 0600);
	node_refused(pub, "the certificate is for another key than the secret");
	put("empty.cred", "", 0600);
	node_refused(pub, "line 1 must be");
	/* a FIFO, a directory */
	snprintf(path, sizeof path, "%s/fifo.cred", dir);
	CHECK(mkfifo(path, 0600) == 0);
	node_refused(pub, "is a FIFO, not a regular file");
	snprintf(path, sizeof path, "%s/other", dir);
	node_refused(pub, "is a directory, not a regular file");

	/* bad public and secret files */
	put("bad.pub", "skiff cluster public v1\n1234\n", 0644);
	CHECK(cred_load_cluster_pub(path, pub2, err, sizeof err) == -1);
	CHECK(strstr(err, path) && strstr(err, "line 2 must be 64 hex digits"));
	put("node.pub", good, 0644);
	CHECK(cred_load_cluster_pub(path, pub2, err, sizeof err) == -1);
	CHECK(strstr(err, path) && strstr(err, "line 1 must be \"skiff cluster public v1\""));
	snprintf(text, sizeof text, "%s", slurp(p_sec));
	put("loose.secret", text, 0644);
	CHECK(cred_load_cluster_secret(path, sec, err, sizeof err) == -1);
	CHECK(strstr(err, path) && strstr(err, "mode 0644"));

	sodium_memzero(sec, sizeof sec);
	sodium_memzero(&c, sizeof c);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0); // NOLINT(cert-env33-c): removes this test's own temp folder
}

int main(void)
{
	alarm(60);
	CHECK(sodium_init() >= 0);
	test_handshakes();
	test_garbled_in_transit();
	test_files();
	printf("ok - cred\n");
	return 0;
}
