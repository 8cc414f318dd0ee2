/*
 * link.h — a secure, authenticated link between two Skiff nodes, written as a
 * pure state machine: no sockets, no clocks, no threads.  The caller reads bytes
 * from its socket and feeds them in, writes out whatever the link appends to an
 * output buffer, and passes the time in milliseconds.  Tests and fuzzers drive it
 * the same way, with no network at all.
 *
 * Wire format (handshake grammar in handshake.c):
 *     record := length:u32be type:u8 body[length]                  (handshake)
 *     sealed := length:u32be type:u8 htag:8 body[length]           (afterwards)
 * Before the handshake ends the only records are HELLO and AUTH, in clear and
 * at most LINK_PREAUTH_MAX bytes in total; afterwards every record is sealed
 * (XChaCha20-Poly1305 under a per-connection, per-direction key, the record
 * counter as nonce, the 5 length and type bytes as associated data), so a
 * modified, replayed, reordered or dropped record fails to open and closes the
 * link.  htag authenticates the length and type before the body is waited
 * for: SipHash-2-4 (crypto_shorthash) of u64le(counter) || length || type under
 * a per-direction header key.  Without it a flipped length bit would make the
 * receiver wait for up to max_record bytes that never come, while the peer's
 * later records, swallowed as that body, kept the link looking alive.  A
 * sealed CLOSE record ends a link cleanly; an end of stream without one is
 * reported as truncation.  There is no plaintext mode.
 *
 * Record types 0..15 belong to the link (link.proto RecordType); 16..255 are the
 * frame types of the protocol on top (harbor.proto FrameType).  HEARTBEAT (4) is
 * sealed and handed to the user like a user record: the policy is not here.
 *
 * Lifecycle:
 *     link_new -> link_start -> link_feed / link_tick ...
 *         -> on_established (peer identity proven; the user may link_close)
 *         -> on_record ... -> state LINK_CLOSED -> link_free
 * A link in LINK_CLOSED ignores input; link_reason() says why it closed, in a
 * form meant for a log line the caller prefixes with the peer address.
 *
 * Ownership: `in` given to link_feed is scratch: sealed records that arrive whole
 * are opened in place there, so the bytes are overwritten.  A record handed to
 * on_record lives in `in` or in the link's buffer and is valid only during the
 * call.  Output buffers belong to the caller; the link only appends to them.
 * Callbacks may call link_seal, link_record_begin/commit and link_close on their
 * own link, but never link_feed or link_free: close from the callback,
 * destroy after link_feed returns.
 *
 * Not thread safe: one link belongs to one thread at a time.
 */
#ifndef SKIFF_LINK_H
#define SKIFF_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_HEADER 5 /* length:u32be + type:u8 */
#define LINK_HTAG 8   /* header tag of a sealed record */
#define LINK_SEALED_HEADER (LINK_HEADER + LINK_HTAG)
#define LINK_MAC 16 /* Poly1305 tag after each sealed body */
#define LINK_OVERHEAD (LINK_SEALED_HEADER + LINK_MAC)
#define LINK_KEY_BYTES 32     /* cluster key size */
#define LINK_SIGN_PUBLIC 32   /* Ed25519 public key */
#define LINK_SIGN_SECRET 64   /* Ed25519 secret key (seed || public) */
#define LINK_CERT_MAX 177     /* node certificate, name of 63 bytes (credential.h) */
#define LINK_NAME_MAX 63      /* node name, printable ASCII */
#define LINK_PREAUTH_MAX 512  /* bytes a peer may send before it authenticates */
#define LINK_TYPE_HEARTBEAT 4 /* link.proto RecordType HEARTBEAT */
#define LINK_TYPE_USER_MIN 16 /* first record type free for the protocol on top */
#define LINK_DEFAULT_MAX_RECORD ((size_t)16 * 1024 * 1024 + 1024)
#define LINK_DEFAULT_HANDSHAKE_MS 5000

enum link_role { LINK_INITIATOR, LINK_RESPONDER };

/* Same values as link.proto Purpose.  Both ends must state the same one. */
enum link_purpose {
	LINK_HARBOR_PEER = 1,
	LINK_HARBOR_MASTER = 2,
	LINK_CLUSTER = 3,
};

enum link_state { LINK_HANDSHAKE, LINK_ESTABLISHED, LINK_CLOSED };

/* Error codes (negative) of the sending functions; link_strerror() names them. */
enum link_error {
	LINK_OK = 0,
	LINK_ESTATE = -1,  /* link not established (or closed) */
	LINK_ETOOBIG = -2, /* record larger than the link's max_record */
	LINK_ENOMEM = -3,
	LINK_ETYPE = -4, /* record type reserved for the link itself */
};

/* What a node claims to be.  The handshake proves the claimer holds the cluster
 * key (shared-key mode) or, with credentials, a certificate naming exactly this
 * id (or name) and its secret key, and binds these values to the connection's
 * keys; deciding whether the claim is acceptable (id range, already live, ...)
 * is the caller's policy. */
struct link_identity {
	uint32_t node_id;             /* harbor: 1..255; cluster: 0 */
	uint64_t incarnation;         /* changes at every start of the node */
	char name[LINK_NAME_MAX + 1]; /* NUL terminated, may be empty */
};

/* A growable byte buffer.  Zero-initialise it; the link appends, the caller
 * writes data[0..len) to its socket and consumes what was written. */
struct link_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int link_buf_reserve(struct link_buf *b, size_t extra); /* 0 or LINK_ENOMEM */
void link_buf_consume(struct link_buf *b, size_t n);    /* drop n bytes from the front */
void link_buf_free(struct link_buf *b);

/* Per-node identity (credential.h makes and loads these from files).  When a
 * link has one, each side sends its certificate in its AUTH and signs the
 * handshake transcript with its node secret; the peer's certificate must be
 * signed by `cluster_pub`, unexpired, and name the id (or, for an id-0
 * certificate, the name) the peer claims in its HELLO.  Both ends must use
 * credentials, or neither.  The link copies what it needs; the caller wipes
 * its copy of node_secret. */
struct link_credential {
	uint8_t cluster_pub[LINK_SIGN_PUBLIC]; /* verifies every peer's certificate */
	uint8_t node_secret[LINK_SIGN_SECRET]; /* this node's Ed25519 secret key */
	uint8_t cert[LINK_CERT_MAX];           /* this node's certificate */
	size_t cert_len;
};

struct link;

/* The peer proved its identity (see struct link_identity); link_peer() now holds its identity.
 * Called before any record is delivered.  Reject with link_close(). */
typedef void link_established_fn(void *ud, struct link *l);
/* One authenticated record of type LINK_TYPE_HEARTBEAT or >= LINK_TYPE_USER_MIN.
 * `data` is writable and valid only until the callback returns. */
typedef void link_record_fn(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len);

struct link_config {
	enum link_role role;
	enum link_purpose purpose;
	struct link_identity self;
	const uint8_t *cluster_key;               /* LINK_KEY_BYTES, copied; may be NULL with a credential */
	const struct link_credential *credential; /* NULL: shared-key mode */
	uint64_t unix_now;                        /* seconds since 1970 for certificate expiry; 0: link_new
	                                   * reads time(NULL) once (the link's only clock read) */
	size_t max_record;                        /* largest plaintext sealed or opened; 0: default */
	uint64_t handshake_timeout_ms;            /* 0: LINK_DEFAULT_HANDSHAKE_MS */
	link_established_fn *on_established;      /* may be NULL */
	link_record_fn *on_record;                /* required */
	void *ud;
};

/* NULL if the config is invalid (neither key nor credential, no on_record, bad
 * purpose or name, malformed own certificate) or
 * memory or libsodium initialisation fails. */
struct link *link_new(const struct link_config *cfg, uint64_t now_ms);
/* Wipes every key; accepts NULL. */
void link_free(struct link *l);

/* Starts the handshake: the initiator appends its HELLO to `out`.  0 or error. */
int link_start(struct link *l, struct link_buf *out);

/* Consumes n bytes read from the socket (overwriting them, see above): answers
 * the handshake into `out`, calls on_established and on_record.  Returns the
 * state after the call; on LINK_CLOSED, write `out` (it may hold a CLOSE record)
 * and drop the connection. */
enum link_state link_feed(struct link *l, uint8_t *in, size_t n, uint64_t now_ms, struct link_buf *out);
/* Closes a link whose handshake has not finished by its deadline. */
enum link_state link_tick(struct link *l, uint64_t now_ms);
/* The socket reached end of stream: a clean close if the peer's CLOSE came,
 * truncation otherwise. */
enum link_state link_eof(struct link *l);

/* Seals one record of `type` into `out`.  Fails with LINK_ETOOBIG when len is
 * over max_record: the caller tells its sender, the link stays up. */
int link_seal(struct link *l, struct link_buf *out, unsigned type, const void *data, size_t len);
/* Zero-copy sealing: begin reserves room in `out` for up to max_len plaintext
 * bytes and points *plain at it; the caller writes the record there (for
 * instance with protobuf_c_message_pack) and commits the real length, which
 * seals it in place.  Nothing else may append to `out` in between. */
int link_record_begin(struct link *l, struct link_buf *out, size_t max_len, uint8_t **plain);
int link_record_commit(struct link *l, struct link_buf *out, unsigned type, size_t len);

/* Ends the link now.  Once established a sealed CLOSE carrying `reason` is
 * appended to `out` (NULL: none), so the peer can log why; use it to reject a
 * peer identity from on_established.  Idempotent. */
void link_close(struct link *l, const char *reason, struct link_buf *out);

enum link_state link_state(const struct link *l);
/* The peer's proven identity; NULL until established. */
const struct link_identity *link_peer(const struct link *l);
/* Why the link closed ("" while it is open). */
const char *link_reason(const struct link *l);
/* True when the link ended by a CLOSE record (either way), not by an error. */
bool link_clean(const struct link *l);
/* now_ms of the last authenticated record received (creation time before). */
uint64_t link_last_recv(const struct link *l);
/* How long the peer has been silent at `now`: since the last record this link
 * processed, or since the transport last read bytes for it (`read_age_ms` ago)
 * if that is more recent.  A service behind on its queue has the peer's latest
 * bytes still waiting there; they prove it alive all the same. */
uint64_t link_silent_ms(const struct link *l, uint64_t now, uint64_t read_age_ms);
size_t link_max_record(const struct link *l);
const char *link_strerror(int err);

#endif
