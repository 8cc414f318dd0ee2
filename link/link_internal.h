/*
 * link_internal.h — what link.c (records, sealing) and handshake.c (handshake,
 * key schedule) share.  Not for users of the link.
 */
#ifndef SKIFF_LINK_INTERNAL_H
#define SKIFF_LINK_INTERNAL_H

#include <sodium.h>

#include "link.h"

#define LINK_REASON_MAX 256
#define LINK_CLOSE_REASON_MAX 200 /* reason text carried by a CLOSE record */
#define LINK_VERSION 1
#define LINK_EPH_BYTES 32
#define LINK_NONCE_BYTES 32
#define LINK_AUTH_BYTES 32
#define LINK_TYPE_HELLO 1 /* link.proto RecordType values */
#define LINK_TYPE_AUTH 2
#define LINK_TYPE_CLOSE 3

/* Fine-grained progress.  The public state is derived from it. */
enum link_phase {
	PHASE_NEW,        /* created, link_start not called */
	PHASE_WAIT_HELLO, /* waiting for the peer's HELLO */
	PHASE_WAIT_AUTH,  /* both HELLOs known, keys derived; waiting for the peer's AUTH */
	PHASE_OPEN,       /* established */
	PHASE_CLOSED,
};

/* Everything secret, in one sodium_malloc'd block (guard pages, locked when the
 * system allows, wiped by sodium_free).  The size is a multiple of 64, so the
 * block is 64-byte aligned as the BLAKE2b state requires. */
struct link_secrets {
	crypto_generichash_state transcript;   /* HELLO_I record || HELLO_R record */
	uint8_t cluster_key[LINK_KEY_BYTES];   /* wiped once the handshake ends */
	uint8_t node_secret[LINK_SIGN_SECRET]; /* credential mode; wiped once the handshake ends */
	uint8_t t[crypto_generichash_BYTES];   /* the transcript hash T, signed in AUTH */
	uint8_t pad[32];                       /* keeps the size a multiple of 64 */
	uint8_t eph_sk[LINK_EPH_BYTES];        /* wiped once the keys are derived */
	uint8_t eph_pk[LINK_EPH_BYTES];
	uint8_t peer_pk[LINK_EPH_BYTES];
	uint8_t my_auth[LINK_AUTH_BYTES];   /* the AUTH mac we send */
	uint8_t peer_auth[LINK_AUTH_BYTES]; /* the AUTH mac we expect */
	uint8_t tx_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t rx_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t tx_hkey[crypto_shorthash_KEYBYTES]; /* header tags, from tx_key (link.c) */
	uint8_t rx_hkey[crypto_shorthash_KEYBYTES];
};

struct link {
	enum link_phase phase;
	enum link_role role;
	enum link_purpose purpose;
	bool clean;         /* closed by a CLOSE record, ours or the peer's */
	bool proven;        /* the peer's AUTH verified: `peer` is its identity */
	bool rx_has_header; /* rx holds a checked header; rx_body is its length */
	bool has_key;       /* a shared cluster key is mixed into the keys */
	bool has_cred;      /* credential mode: certificates and signatures in AUTH */
	struct link_identity self;
	struct link_identity peer;
	size_t max_record;
	uint64_t deadline_ms; /* handshake must end by then */
	uint64_t last_recv_ms;
	size_t preauth;          /* bytes of handshake records accepted so far */
	uint64_t tx_seq, rx_seq; /* record counters: the AEAD nonces */
	size_t reserved;         /* max_len of an open link_record_begin, 0 if none */
	struct link_buf rx;      /* a record that arrived in pieces */
	size_t rx_body;
	link_established_fn *on_established;
	link_record_fn *on_record;
	void *ud;
	struct link_secrets *sec;
	uint64_t unix_now; /* certificate expiry is checked against it */
	size_t cert_len;   /* own certificate (credential mode) */
	uint8_t cert[LINK_CERT_MAX];
	uint8_t cluster_pub[LINK_SIGN_PUBLIC];
	char reason[LINK_REASON_MAX];
};

/* link.c */
void link_fail(struct link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void link_put_header(uint8_t *p, size_t body, unsigned type);

/* handshake.c: each returns 0, or -1 after link_fail().  The order is
 *   initiator: send_hello; recv_hello, derive; recv_auth, send_auth
 *   responder: recv_hello, send_hello, derive, send_auth; recv_auth
 * (derive needs both HELLOs hashed, the initiator's first). */
/* key may be NULL (credential mode without a shared key); cred may be NULL. */
int hs_init(struct link *l, const uint8_t *cluster_key, const struct link_credential *cred);
int hs_send_hello(struct link *l, struct link_buf *out);
int hs_recv_hello(struct link *l, const uint8_t *rec, size_t body);
int hs_derive(struct link *l);
int hs_send_auth(struct link *l, struct link_buf *out);
int hs_recv_auth(struct link *l, const uint8_t *rec, size_t body);
/* Wipes what only the handshake needed. */
void hs_forget(struct link *l);
/* Decodes a CLOSE plaintext into a printable reason ("" if it has none). */
int hs_close_reason(const uint8_t *data, size_t len, char *reason, size_t size);
/* Packs a Close{reason} plaintext; returns its length (<= 3 + LINK_CLOSE_REASON_MAX). */
size_t hs_pack_close(const char *reason, uint8_t *out);

#endif
