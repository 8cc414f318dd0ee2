/*
 * credential.c — node certificates and the credential files (formats in
 * credential.h).
 *
 * Every buffer that held a secret (file contents, seeds, secret keys) is wiped
 * before it goes out of scope.  Parsing is strict: a file with anything but
 * exactly the expected lines is refused, with the line that is wrong.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "credential.h"
#include "keyfile.h"

#define CERT_MAGIC "SKC1"
#define CERT_VERSION 1
#define FILE_MAX 1024 /* every credential file is far smaller */

static const char cluster_secret_head[] = "skiff cluster secret v1";
static const char cluster_public_head[] = "skiff cluster public v1";
static const char node_head[] = "skiff node credential v1";

_Static_assert(CRED_CERT_FIXED + CRED_NAME_MAX == LINK_CERT_MAX, "link.h certificate size");
_Static_assert(LINK_SIGN_PUBLIC == crypto_sign_PUBLICKEYBYTES &&
                       LINK_SIGN_SECRET == crypto_sign_SECRETKEYBYTES,
               "Ed25519 sizes");

/* ---- certificates ----------------------------------------------------------- */

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

int cred_cert_parse(const uint8_t *cert, size_t n, struct cred_cert *out, char *err, size_t errlen)
{
	if (n < CRED_CERT_FIXED || n > LINK_CERT_MAX) {
		snprintf(err, errlen, "certificate of %zu bytes (expected %d..%d)", n, CRED_CERT_FIXED,
		         LINK_CERT_MAX);
		return -1;
	}
	if (memcmp(cert, CERT_MAGIC, 4) != 0 || cert[4] != CERT_VERSION) {
		snprintf(err, errlen, "not a version %d Skiff node certificate", CERT_VERSION);
		return -1;
	}
	size_t name_len = cert[17];
	if (n != CRED_CERT_FIXED + name_len) {
		snprintf(err, errlen, "certificate length %zu does not match its name length %zu", n,
		         name_len);
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->node_id = (uint32_t)get_be(cert + 5, 4);
	out->expires = get_be(cert + 9, 8);
	memcpy(out->name, cert + 18, name_len);
	if (!printable(out->name, name_len)) {
		snprintf(err, errlen, "certificate name is not printable ASCII");
		return -1;
	}
	if ((out->node_id != 0) == (name_len != 0)) {
		snprintf(err, errlen, "certificate must name either a node id or a node name");
		return -1;
	}
	memcpy(out->node_pub, cert + 18 + name_len, LINK_SIGN_PUBLIC);
	return 0;
}

int cred_cert_verify(const uint8_t *cert, size_t n, const uint8_t cluster_pub[LINK_SIGN_PUBLIC],
                     uint64_t unix_now, struct cred_cert *out, char *err, size_t errlen)
{
	if (cred_cert_parse(cert, n, out, err, errlen) != 0)
		return -1;
	size_t body = n - crypto_sign_BYTES;
	if (crypto_sign_verify_detached(cert + body, cert, body, cluster_pub) != 0) {
		snprintf(err, errlen, "certificate is not signed by this cluster's key");
		return -1;
	}
	if (out->expires != 0 && unix_now >= out->expires) {
		snprintf(err, errlen, "certificate expired at %llu (unix time; now %llu)",
		         (unsigned long long)out->expires, (unsigned long long)unix_now);
		return -1;
	}
	return 0;
}

size_t cred_cert_make(uint32_t node_id, const char *name, uint64_t expires,
                      const uint8_t node_pub[LINK_SIGN_PUBLIC],
                      const uint8_t cluster_secret[LINK_SIGN_SECRET], uint8_t *out)
{
	size_t name_len = name ? strlen(name) : 0;
	if (name_len > CRED_NAME_MAX || !printable(name, name_len) || (node_id != 0) == (name_len != 0))
		return 0;
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result): a 4-byte magic, not a string
	memcpy(out, CERT_MAGIC, 4);
	out[4] = CERT_VERSION;
	put_be(out + 5, node_id, 4);
	put_be(out + 9, expires, 8);
	out[17] = (uint8_t)name_len;
	if (name_len)
		// NOLINTNEXTLINE(bugprone-not-null-terminated-result): length-prefixed field
		memcpy(out + 18, name, name_len);
	memcpy(out + 18 + name_len, node_pub, LINK_SIGN_PUBLIC);
	size_t body = 18 + name_len + LINK_SIGN_PUBLIC;
	crypto_sign_detached(out + body, NULL, out, body, cluster_secret);
	return body + crypto_sign_BYTES;
}

/* ---- text files ------------------------------------------------------------- */

/* Splits buf[0..n) (NUL terminated by the caller) into at most max lines, each
 * ended by '\n' (a missing final newline is tolerated).  -1 if there are more. */
static int split_lines(char *buf, size_t n, char **line, int max)
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		if (k == max)
			return -1;
		line[k++] = buf + i;
		char *nl = memchr(buf + i, '\n', n - i);
		if (nl == NULL)
			break;
		*nl = '\0';
		i = (size_t)(nl - buf) + 1;
	}
	return k;
}

/* Decodes exactly `bytes` bytes of hex from s (the whole string). */
static int hex_exact(const char *s, uint8_t *out, size_t bytes)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len != 2 * bytes)
		return -1;
	size_t got = 0;
	const char *end = NULL;
	if (sodium_hex2bin(out, bytes, s, len, NULL, &got, &end) != 0 || got != bytes || end != s + len)
		return -1;
	return 0;
}

static bool head_is(const char *line, const char *head)
{
	size_t n = strlen(head);
	return strncmp(line, head, n) == 0 && (line[n] == '\0' || (line[n] == '\r' && line[n + 1] == '\0'));
}

/* Loads a file of one header line and one hex line of `bytes` bytes. */
static int load_hex_file(const char *path, const char *what, int private_only, const char *head, uint8_t *out,
                         size_t bytes, char *err, size_t errlen)
{
	char buf[FILE_MAX + 1];
	char *line[3];
	size_t n;
	int rc = -1;

	if (keyfile_read(path, what, private_only, (uint8_t *)buf, FILE_MAX, &n, err, errlen) != 0)
		return -1;
	buf[n] = '\0';
	int k = split_lines(buf, n, line, 2);
	if (k < 1 || !head_is(line[0], head)) {
		snprintf(err, errlen, "%s %s: malformed (line 1 must be \"%s\")", what, path, head);
		goto out;
	}
	if (k != 2 || hex_exact(line[1], out, bytes) != 0) {
		snprintf(err, errlen,
		         "%s %s: malformed (line 2 must be %zu hex digits and the file "
		         "must end there)",
		         what, path, 2 * bytes);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}

int cred_load_cluster_pub(const char *path, uint8_t pub[LINK_SIGN_PUBLIC], char *err, size_t errlen)
{
	return load_hex_file(path, "cluster public key file", 0, cluster_public_head, pub, LINK_SIGN_PUBLIC,
	                     err, errlen);
}

int cred_load_cluster_secret(const char *path, uint8_t secret[LINK_SIGN_SECRET], char *err, size_t errlen)
{
	uint8_t seed[crypto_sign_SEEDBYTES], pub[LINK_SIGN_PUBLIC];
	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -1;
	}
	int rc = load_hex_file(path, "cluster secret key file", 1, cluster_secret_head, seed, sizeof seed,
	                       err, errlen);
	if (rc == 0)
		crypto_sign_seed_keypair(pub, secret, seed);
	sodium_memzero(seed, sizeof seed);
	return rc;
}

int cred_load_node(const char *path, const uint8_t *cluster_pub, uint64_t unix_now,
                   struct link_credential *out, struct cred_cert *cert, char *err, size_t errlen)
{
	static const char what[] = "node credential file";
	char buf[FILE_MAX + 1], why[160];
	uint8_t seed[crypto_sign_SEEDBYTES], pub[LINK_SIGN_PUBLIC];
	char *line[4];
	size_t n;
	int rc = -1;

	sodium_memzero(out->node_secret, sizeof out->node_secret);
	out->cert_len = 0;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -1;
	}
	if (keyfile_read(path, what, 1, (uint8_t *)buf, FILE_MAX, &n, err, errlen) != 0)
		return -1;
	buf[n] = '\0';
	int k = split_lines(buf, n, line, 3);
	if (k < 1 || !head_is(line[0], node_head)) {
		snprintf(err, errlen, "%s %s: malformed (line 1 must be \"%s\")", what, path, node_head);
		goto out;
	}
	if (k < 2 || strncmp(line[1], "secret ", 7) != 0 || hex_exact(line[1] + 7, seed, sizeof seed) != 0) {
		snprintf(err, errlen, "%s %s: malformed (line 2 must be \"secret \" and 64 hex digits)", what,
		         path);
		goto out;
	}
	size_t hexlen = k == 3 ? strlen(line[2]) : 0;
	if (hexlen > 0 && line[2][hexlen - 1] == '\r')
		hexlen--;
	if (k != 3 || strncmp(line[2], "cert ", 5) != 0 || hexlen < 5 || (hexlen - 5) % 2 != 0 ||
	    (hexlen - 5) / 2 > LINK_CERT_MAX || hex_exact(line[2] + 5, out->cert, (hexlen - 5) / 2) != 0) {
		snprintf(err, errlen,
		         "%s %s: malformed (line 3 must be \"cert \" and the certificate "
		         "in hex, at most %d bytes, and the file must end there)",
		         what, path, LINK_CERT_MAX);
		goto out;
	}
	out->cert_len = (hexlen - 5) / 2;
	int bad = cluster_pub ? cred_cert_verify(out->cert, out->cert_len, cluster_pub, unix_now, cert, why,
	                                         sizeof why)
	                      : cred_cert_parse(out->cert, out->cert_len, cert, why, sizeof why);
	if (bad) {
		snprintf(err, errlen, "%s %s: %s", what, path, why);
		goto out;
	}
	crypto_sign_seed_keypair(pub, out->node_secret, seed);
	if (sodium_memcmp(pub, cert->node_pub, sizeof pub) != 0) {
		snprintf(err, errlen,
		         "%s %s: the certificate is for another key than the secret in "
		         "the file",
		         what, path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		sodium_memzero(out->node_secret, sizeof out->node_secret);
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(seed, sizeof seed);
	return rc;
}

/* ---- making them ------------------------------------------------------------ */

int cred_generate_cluster(const char *dir, char *err, size_t errlen)
{
	uint8_t pub[LINK_SIGN_PUBLIC], sk[LINK_SIGN_SECRET];
	char text[128], path[4096];
	int rc = -1;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
		return -1;
	}
	crypto_sign_keypair(pub, sk);
	/* The secret file holds the seed: the first half of libsodium's secret key. */
	int len = snprintf(text, sizeof text, "%s\n", cluster_secret_head);
	sodium_bin2hex(text + len, sizeof text - (size_t)len, sk, crypto_sign_SEEDBYTES);
	len += 2 * crypto_sign_SEEDBYTES;
	text[len++] = '\n';
	snprintf(path, sizeof path, "%s/cluster.secret", dir);
	if (keyfile_write_new(path, "cluster secret key file", 0600, text, (size_t)len, err, errlen) != 0)
		goto out;
	len = snprintf(text, sizeof text, "%s\n", cluster_public_head);
	sodium_bin2hex(text + len, sizeof text - (size_t)len, pub, sizeof pub);
	len += 2 * LINK_SIGN_PUBLIC;
	text[len++] = '\n';
	snprintf(path, sizeof path, "%s/cluster.pub", dir);
	if (keyfile_write_new(path, "cluster public key file", 0644, text, (size_t)len, err, errlen) != 0) {
		snprintf(path, sizeof path, "%s/cluster.secret", dir);
		unlink(path);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(text, sizeof text);
	return rc;
}

int cred_generate_node(const char *signer_path, uint32_t node_id, const char *name, uint64_t expires,
                       const char *path, char *err, size_t errlen)
{
	uint8_t csk[LINK_SIGN_SECRET], pub[LINK_SIGN_PUBLIC], sk[LINK_SIGN_SECRET];
	uint8_t cert[LINK_CERT_MAX];
	char text[64 + 2 * crypto_sign_SEEDBYTES + 2 * LINK_CERT_MAX + 32];
	int rc = -1;

	if (cred_load_cluster_secret(signer_path, csk, err, errlen) != 0)
		return -1;
	crypto_sign_keypair(pub, sk);
	size_t clen = cred_cert_make(node_id, name, expires, pub, csk, cert);
	if (clen == 0) {
		snprintf(err, errlen,
		         "a node credential names either an id (1..) or a name (1..%d "
		         "printable characters, no spaces), not both",
		         CRED_NAME_MAX);
		goto out;
	}
	int len = snprintf(text, sizeof text, "%s\nsecret ", node_head);
	sodium_bin2hex(text + len, sizeof text - (size_t)len, sk, crypto_sign_SEEDBYTES);
	len += 2 * crypto_sign_SEEDBYTES;
	len += snprintf(text + len, sizeof text - (size_t)len, "\ncert ");
	sodium_bin2hex(text + len, sizeof text - (size_t)len, cert, clen);
	len += (int)(2 * clen);
	text[len++] = '\n';
	rc = keyfile_write_new(path, "node credential file", 0600, text, (size_t)len, err, errlen);
out:
	sodium_memzero(csk, sizeof csk);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(text, sizeof text);
	return rc;
}
