/*
 * handshake.c — the link handshake and its key schedule.
 *
 * Grammar (I = initiator, R = responder, K = the shared cluster key if any):
 *
 *     record     := length:u32be type:u8 body[length]
 *     I -> R     : HELLO(h_I)
 *     R -> I     : HELLO(h_R) AUTH(mac_R, cert_R, sig_R)
 *     I -> R     : AUTH(mac_I, cert_I, sig_I) sealed*
 *     R -> I     : sealed*
 *     sealed     := record whose body is ciphertext || tag[16]; type 3 (CLOSE),
 *                   4 (HEARTBEAT) or 16..255 (the protocol on top)
 *     HELLO(h)   := record type 1, body link.proto Hello
 *                   {version=1, purpose, node_id, node_name, incarnation,
 *                    ephemeral = X25519 public key, nonce = 32 random bytes}
 *     AUTH(...)  := record type 2, body link.proto Auth {mac, cert, sig}
 *                   (cert and sig empty in shared-key mode)
 *
 * Key schedule (BLAKE2b = crypto_generichash, KDF = crypto_kdf_derive_from_key):
 *
 *     T      = BLAKE2b-256(personal "skiff-link-v1", HELLO_I record || HELLO_R record)
 *     ss     = X25519(own ephemeral secret, peer ephemeral public)   (all-zero: fail)
 *     M      = BLAKE2b-256(key K, ss || T)        (unkeyed when there is no K)
 *     k_I2R  = KDF(M, 1, "skfflink")      k_R2I = KDF(M, 2, "skfflink")
 *     c_I    = KDF(M, 3, "skfflink")      c_R   = KDF(M, 4, "skfflink")
 *     mac_I  = BLAKE2b-256(key c_I, T)    mac_R = BLAKE2b-256(key c_R, T)
 *     sig_X  = Ed25519(node secret of X, "skiff-link-v1 auth " || role_X || T)
 *              role_X = "I" or "R"; cert_X is X's certificate (credential.h)
 *     sealed record n (n = 0, 1, ... per direction) from I:
 *            crypto_aead_xchacha20poly1305_ietf(key k_I2R, nonce u64le(n) || 0^16,
 *                                               ad = the record's 5 header bytes)
 *
 * Why it holds:
 *   - Shared-key mode: mac_X needs M, M needs K: a peer without the cluster key
 *     cannot produce an AUTH, and no record is accepted before the peer's AUTH
 *     verified.  Every key holder can claim any id: it is trusted with everything.
 *   - Credential mode: the receiver accepts cert_X only if the cluster signing
 *     key signed it, it has not expired, and it names the id (or, for an id-0
 *     certificate, the name) that X claims in its HELLO; sig_X proves X holds
 *     the certificate's secret key *now*, for this T.  So a node can prove its
 *     own id only, and a stolen certificate without its secret is worthless.
 *     K, when configured too, is still mixed into M: an attacker then needs a
 *     node's secret *and* the shared key, and nodes with different K cannot
 *     mix by mistake.  Without K the link is just as authenticated (the
 *     signatures) and just as secret (ss).
 *   - T covers both HELLO records byte for byte (both ephemerals, nonces and
 *     identity claims), so each side's claim is bound to the keys and to the
 *     signatures, and any change to a HELLO in transit makes the two sides
 *     compute different T.  The role label stops a signature being reflected.
 *   - T and ss depend on both sides' fresh ephemeral keys: a recorded handshake
 *     replayed against a new responder meets a new ephemeral and its old AUTH
 *     fails.  Different keys for mac_I and mac_R stop a reflected AUTH.
 *   - Session keys come from ephemeral X25519: stealing K or a node secret later
 *     does not open recorded traffic (forward secrecy).  Each direction has its
 *     own key, and record n in a direction uses nonce n, so the counter is
 *     implicit.
 *
 * The responder answers before it knows the initiator's identity; that reveals
 * nothing usable: its mac and signature cover a T with the responder's fresh
 * ephemeral.  A purpose or version mismatch is refused on the HELLO, before any
 * AUTH.  Both ends must run the same mode; a mismatch fails on the first AUTH
 * with a message that says so.
 */
#include <stdio.h>
#include <string.h>

#include "credential.h"
#include "link.pb-c.h"
#include "link_internal.h"
#include "pbarena.h"

static const char kdf_context[crypto_kdf_CONTEXTBYTES] = { 's', 'k', 'f', 'f', 'l', 'i', 'n', 'k' };
/* BLAKE2b personalisation: exactly 16 bytes, zero padded. */
static const uint8_t transcript_personal[crypto_generichash_blake2b_PERSONALBYTES] = "skiff-link-v1";

_Static_assert(SKIFF__LINK__RECORD_TYPE__HELLO == LINK_TYPE_HELLO &&
                       SKIFF__LINK__RECORD_TYPE__AUTH == LINK_TYPE_AUTH &&
                       SKIFF__LINK__RECORD_TYPE__CLOSE == LINK_TYPE_CLOSE &&
                       SKIFF__LINK__RECORD_TYPE__HEARTBEAT == LINK_TYPE_HEARTBEAT,
               "link.h record types follow link.proto");
_Static_assert(SKIFF__LINK__PURPOSE__HARBOR_PEER == (int)LINK_HARBOR_PEER &&
                       SKIFF__LINK__PURPOSE__HARBOR_MASTER == (int)LINK_HARBOR_MASTER &&
                       SKIFF__LINK__PURPOSE__CLUSTER == (int)LINK_CLUSTER,
               "link.h purposes follow link.proto");
_Static_assert(sizeof(struct link_secrets) % 64 == 0, "sodium_malloc alignment");

/* A HELLO at most: a few dozen bytes of fields, 63 of name, 2x34 of keys. */
#define HELLO_OUT_MAX 192
/* An AUTH at most: mac 2+32, cert 3+LINK_CERT_MAX, sig 2+64. */
#define AUTH_OUT_MAX (2 + 32 + 3 + LINK_CERT_MAX + 2 + 64)
#define SIG_LABEL "skiff-link-v1 auth "
_Static_assert(HELLO_OUT_MAX + AUTH_OUT_MAX + 2 * LINK_HEADER <= LINK_PREAUTH_MAX,
               "an honest handshake fits the pre-authentication limit");
/* Memory for decoding one pre-authentication record (at most LINK_PREAUTH_MAX
 * bytes), on the stack.  An honest HELLO needs well under 1 KiB; a hostile one
 * stuffed with hundreds of tiny unknown fields may need more, fails to decode,
 * and closes the link like any malformed HELLO. */
#define DECODE_ARENA 16384

static const char *purpose_name(int p)
{
	switch (p) {
	case LINK_HARBOR_PEER: return "harbor peer";
	case LINK_HARBOR_MASTER: return "harbor master";
	case LINK_CLUSTER: return "cluster";
	default: return "unknown";
	}
}

static bool name_ok(const char *s, size_t n)
{
	if (n > LINK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static int append_record(struct link *l, struct link_buf *out, unsigned type, const ProtobufCMessage *msg,
                         size_t max)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n > max || link_buf_reserve(out, LINK_HEADER + n) != 0) {
		link_fail(l, "handshake failed: cannot build %s record",
		          type == SKIFF__LINK__RECORD_TYPE__HELLO ? "HELLO" : "AUTH");
		return -1;
	}
	uint8_t *p = out->data + out->len;
	link_put_header(p, n, type);
	protobuf_c_message_pack(msg, p + LINK_HEADER);
	out->len += LINK_HEADER + n;
	return 0;
}

int hs_send_hello(struct link *l, struct link_buf *out)
{
	struct link_secrets *s = l->sec;
	uint8_t nonce[LINK_NONCE_BYTES];
	Skiff__Link__Hello h = SKIFF__LINK__HELLO__INIT;
	size_t start = out->len;

	crypto_box_keypair(s->eph_pk, s->eph_sk);
	randombytes_buf(nonce, sizeof nonce);
	h.version = LINK_VERSION;
	h.purpose = (Skiff__Link__Purpose)l->purpose;
	h.node_id = l->self.node_id;
	h.node_name = l->self.name;
	h.incarnation = l->self.incarnation;
	h.ephemeral.data = s->eph_pk;
	h.ephemeral.len = sizeof s->eph_pk;
	h.nonce.data = nonce;
	h.nonce.len = sizeof nonce;
	if (append_record(l, out, SKIFF__LINK__RECORD_TYPE__HELLO, &h.base, HELLO_OUT_MAX) != 0)
		return -1;
	crypto_generichash_update(&s->transcript, out->data + start, out->len - start);
	return 0;
}

int hs_init(struct link *l, const uint8_t *cluster_key, const struct link_credential *cred)
{
	if (cluster_key != NULL) {
		memcpy(l->sec->cluster_key, cluster_key, LINK_KEY_BYTES);
		l->has_key = true;
	}
	if (cred != NULL) {
		struct cred_cert own;
		char why[160];
		if (cred->cert_len > LINK_CERT_MAX ||
		    cred_cert_parse(cred->cert, cred->cert_len, &own, why, sizeof why) != 0)
			return -1;
		memcpy(l->sec->node_secret, cred->node_secret, LINK_SIGN_SECRET);
		memcpy(l->cert, cred->cert, cred->cert_len);
		l->cert_len = cred->cert_len;
		memcpy(l->cluster_pub, cred->cluster_pub, LINK_SIGN_PUBLIC);
		l->has_cred = true;
	}
	return crypto_generichash_blake2b_init_salt_personal(
		&l->sec->transcript, NULL, 0, crypto_generichash_BYTES, NULL, transcript_personal);
}

int hs_derive(struct link *l)
{
	struct link_secrets *s = l->sec;
	uint8_t t_and_ss[crypto_scalarmult_BYTES + crypto_generichash_BYTES];
	uint8_t *ss = t_and_ss, *t = t_and_ss + crypto_scalarmult_BYTES;
	uint8_t m[crypto_kdf_KEYBYTES];
	uint8_t k_i2r[32], k_r2i[32], c_i[32], c_r[32];
	int rc = -1;

	crypto_generichash_final(&s->transcript, t, crypto_generichash_BYTES);
	if (crypto_scalarmult(ss, s->eph_sk, s->peer_pk) != 0) {
		link_fail(l, "handshake failed: peer sent a degenerate ephemeral key");
		goto out;
	}
	crypto_generichash(m, sizeof m, t_and_ss, sizeof t_and_ss, l->has_key ? s->cluster_key : NULL,
	                   l->has_key ? LINK_KEY_BYTES : 0);
	memcpy(s->t, t, sizeof s->t);
	crypto_kdf_derive_from_key(k_i2r, sizeof k_i2r, 1, kdf_context, m);
	crypto_kdf_derive_from_key(k_r2i, sizeof k_r2i, 2, kdf_context, m);
	crypto_kdf_derive_from_key(c_i, sizeof c_i, 3, kdf_context, m);
	crypto_kdf_derive_from_key(c_r, sizeof c_r, 4, kdf_context, m);
	bool init = l->role == LINK_INITIATOR;
	memcpy(s->tx_key, init ? k_i2r : k_r2i, sizeof s->tx_key);
	memcpy(s->rx_key, init ? k_r2i : k_i2r, sizeof s->rx_key);
	crypto_generichash(s->my_auth, LINK_AUTH_BYTES, t, crypto_generichash_BYTES, init ? c_i : c_r, 32);
	crypto_generichash(s->peer_auth, LINK_AUTH_BYTES, t, crypto_generichash_BYTES, init ? c_r : c_i, 32);
	rc = 0;
out:
	sodium_memzero(s->eph_sk, sizeof s->eph_sk);
	sodium_memzero(t_and_ss, sizeof t_and_ss);
	sodium_memzero(m, sizeof m);
	sodium_memzero(k_i2r, sizeof k_i2r);
	sodium_memzero(k_r2i, sizeof k_r2i);
	sodium_memzero(c_i, sizeof c_i);
	sodium_memzero(c_r, sizeof c_r);
	return rc;
}

int hs_recv_hello(struct link *l, const uint8_t *rec, size_t body)
{
	_Alignas(16) uint8_t mem[DECODE_ARENA];
	struct pb_arena arena;
	Skiff__Link__Hello *h;
	int rc = -1;

	pb_arena_init(&arena, mem, sizeof mem);
	h = skiff__link__hello__unpack(&arena.allocator, body, rec + LINK_HEADER);
	if (h == NULL) {
		link_fail(l, "handshake failed: malformed HELLO");
		goto out;
	}
	if (h->version != LINK_VERSION) {
		link_fail(l, "handshake failed: peer speaks link version %u, this node speaks %d", h->version,
		          LINK_VERSION);
		goto out;
	}
	if ((int)h->purpose != (int)l->purpose) {
		link_fail(l, "handshake failed: peer wants a %s link, this end is %s",
		          purpose_name(h->purpose), purpose_name(l->purpose));
		goto out;
	}
	size_t nlen = h->node_name ? strlen(h->node_name) : 0;
	if (!name_ok(h->node_name, nlen)) {
		link_fail(l, "handshake failed: peer node name is too long or not printable");
		goto out;
	}
	if (h->ephemeral.len != LINK_EPH_BYTES || h->nonce.len != LINK_NONCE_BYTES) {
		link_fail(l, "handshake failed: HELLO key or nonce has the wrong size");
		goto out;
	}
	/* Claimed, not yet proven: link_peer() hides it until the AUTH checks. */
	l->peer.node_id = h->node_id;
	l->peer.incarnation = h->incarnation;
	memcpy(l->peer.name, nlen ? h->node_name : "", nlen + 1);
	memcpy(l->sec->peer_pk, h->ephemeral.data, LINK_EPH_BYTES);
	/* Whoever receives it, the initiator's HELLO is hashed first: the initiator
	 * hashed its own when sending, the responder has not sent one yet. */
	crypto_generichash_update(&l->sec->transcript, rec, LINK_HEADER + body);
	rc = 0;
out:
	pb_arena_finish(&arena);
	return rc;
}

/* The message a side signs: the label, its role, T. */
static void sig_message(const struct link *l, bool initiator, uint8_t *msg)
{
	memcpy(msg, SIG_LABEL, sizeof SIG_LABEL - 1);
	msg[sizeof SIG_LABEL - 1] = initiator ? 'I' : 'R';
	memcpy(msg + sizeof SIG_LABEL, l->sec->t, crypto_generichash_BYTES);
}

#define SIG_MSG_BYTES (sizeof SIG_LABEL + crypto_generichash_BYTES)

int hs_send_auth(struct link *l, struct link_buf *out)
{
	Skiff__Link__Auth a = SKIFF__LINK__AUTH__INIT;
	uint8_t msg[SIG_MSG_BYTES], sig[crypto_sign_BYTES];

	a.mac.data = l->sec->my_auth;
	a.mac.len = LINK_AUTH_BYTES;
	if (l->has_cred) {
		sig_message(l, l->role == LINK_INITIATOR, msg);
		crypto_sign_detached(sig, NULL, msg, sizeof msg, l->sec->node_secret);
		a.cert.data = l->cert;
		a.cert.len = l->cert_len;
		a.sig.data = sig;
		a.sig.len = sizeof sig;
	}
	return append_record(l, out, SKIFF__LINK__RECORD_TYPE__AUTH, &a.base, AUTH_OUT_MAX);
}

/* Credential mode: the peer's certificate and signature (see the top). */
static int check_peer_cert(struct link *l, const Skiff__Link__Auth *a)
{
	struct cred_cert c;
	uint8_t msg[SIG_MSG_BYTES];
	char why[160];

	if (a->cert.len == 0 || a->sig.len != crypto_sign_BYTES) {
		link_fail(l, "handshake failed: peer presented no node credential (this node "
		             "requires one: is the peer configured with node_credential?)");
		return -1;
	}
	if (cred_cert_verify(a->cert.data, a->cert.len, l->cluster_pub, l->unix_now, &c, why, sizeof why) !=
	    0) {
		link_fail(l, "handshake failed: peer's node credential refused: %s", why);
		return -1;
	}
	if (c.node_id != 0 && c.node_id != l->peer.node_id) {
		link_fail(l,
		          "handshake failed: peer claims node id %u but its credential is for "
		          "node id %u",
		          l->peer.node_id, c.node_id);
		return -1;
	}
	if (c.node_id == 0 && (l->peer.node_id != 0 || strcmp(c.name, l->peer.name) != 0)) {
		link_fail(l,
		          "handshake failed: peer claims node id %u name '%s' but its credential "
		          "is for name '%s'",
		          l->peer.node_id, l->peer.name, c.name);
		return -1;
	}
	sig_message(l, l->role != LINK_INITIATOR, msg);
	if (crypto_sign_verify_detached(a->sig.data, msg, sizeof msg, c.node_pub) != 0) {
		link_fail(l, "handshake failed: peer does not hold the secret key of the node "
		             "credential it presented");
		return -1;
	}
	return 0;
}

int hs_recv_auth(struct link *l, const uint8_t *rec, size_t body)
{
	_Alignas(16) uint8_t mem[DECODE_ARENA];
	struct pb_arena arena;
	Skiff__Link__Auth *a;
	int rc = -1;

	pb_arena_init(&arena, mem, sizeof mem);
	a = skiff__link__auth__unpack(&arena.allocator, body, rec + LINK_HEADER);
	if (a == NULL || a->mac.len != LINK_AUTH_BYTES) {
		link_fail(l, "handshake failed: malformed AUTH");
		goto out;
	}
	if (sodium_memcmp(a->mac.data, l->sec->peer_auth, LINK_AUTH_BYTES) != 0) {
		link_fail(l, "handshake failed: bad AUTH (%s, or the handshake was altered)",
		          l->has_key ? "peer does not hold this cluster key"
		                     : "peer uses a shared cluster key, this node none");
		goto out;
	}
	if (l->has_cred) {
		if (check_peer_cert(l, a) != 0)
			goto out;
	} else if (a->cert.len != 0 || a->sig.len != 0) {
		link_fail(l, "handshake failed: peer presented a node credential but this node has "
		             "none (set cluster_pub and node_credential on every node, or on none)");
		goto out;
	}
	rc = 0;
out:
	pb_arena_finish(&arena);
	return rc;
}

void hs_forget(struct link *l)
{
	struct link_secrets *s = l->sec;
	if (s == NULL)
		return;
	sodium_memzero(&s->transcript, sizeof s->transcript);
	sodium_memzero(s->cluster_key, sizeof s->cluster_key);
	sodium_memzero(s->node_secret, sizeof s->node_secret);
	sodium_memzero(s->t, sizeof s->t);
	sodium_memzero(s->eph_sk, sizeof s->eph_sk);
	sodium_memzero(s->my_auth, sizeof s->my_auth);
	sodium_memzero(s->peer_auth, sizeof s->peer_auth);
}

int hs_close_reason(const uint8_t *data, size_t len, char *reason, size_t size)
{
	_Alignas(16) uint8_t mem[1024];
	struct pb_arena arena;
	Skiff__Link__Close *c;
	size_t j = 0;

	/* A CLOSE is small; a big one is a protocol error, not something to decode. */
	if (len > 3 + LINK_CLOSE_REASON_MAX)
		return -1;
	pb_arena_init(&arena, mem, sizeof mem);
	c = skiff__link__close__unpack(&arena.allocator, len, data);
	if (c == NULL)
		return -1;
	/* The text goes into our log: keep printable ASCII only. */
	for (const char *p = c->reason; p && *p && j + 1 < size; p++)
		reason[j++] = (*p >= 0x20 && *p <= 0x7e) ? *p : '?';
	reason[j] = '\0';
	pb_arena_finish(&arena);
	return 0;
}

size_t hs_pack_close(const char *reason, uint8_t *out)
{
	char text[LINK_CLOSE_REASON_MAX + 1];
	Skiff__Link__Close c = SKIFF__LINK__CLOSE__INIT;

	snprintf(text, sizeof text, "%s", reason ? reason : "");
	c.reason = text;
	return protobuf_c_message_pack(&c.base, out);
}
