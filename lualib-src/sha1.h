/*
 * sha1.h — SHA-1 (FIPS 180-4), in plain C with no dependency.
 *
 * Shared by http.wscore (lua-wscore.c) and the C gate's WebSocket mode
 * (service-src/gate_ws.c): both need it for the Sec-WebSocket-Accept key of
 * RFC 6455 and nothing else, so neither has to link libcrypto for it.
 * (skynet.crypt's sha1 in lua-crypt.c uses OpenSSL, which it links anyway for
 * HMAC and DES.)  SHA-1 is not collision resistant: use it for protocols
 * that name it, never for new security.
 */
#ifndef SKIFF_SHA1_H
#define SKIFF_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SKIFF_SHA1_SIZE 20

struct skiff_sha1 {
	uint32_t h[5];
	uint64_t length; /* bytes hashed so far */
	uint8_t block[64];
	size_t used; /* bytes waiting in block, < 64 */
};

void skiff_sha1_init(struct skiff_sha1 *s);
void skiff_sha1_update(struct skiff_sha1 *s, const void *p, size_t n);
void skiff_sha1_final(struct skiff_sha1 *s, uint8_t out[SKIFF_SHA1_SIZE]);
/* The digest of n bytes at p in one call. */
void skiff_sha1(const void *p, size_t n, uint8_t out[SKIFF_SHA1_SIZE]);

#endif
