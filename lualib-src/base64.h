/*
 * base64.h — base64 encoding, standard alphabet with '=' padding
 * (RFC 4648 §4), in plain C with no dependency.
 *
 * Shared by http.wscore (lua-wscore.c) and the C gate's WebSocket mode
 * (service-src/gate_ws.c), which both encode the Sec-WebSocket-Accept key,
 * and by the two decoders (crypt.base64decode skips stray characters,
 * wscore's strict one refuses them).
 */
#ifndef SKIFF_BASE64_H
#define SKIFF_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters the encoding of n bytes takes (no terminating NUL). */
#define SKIFF_BASE64_SIZE(n) (((n) + 2) / 3 * 4)

/* Writes SKIFF_BASE64_SIZE(n) characters to out (no NUL); returns that count. */
size_t skiff_base64_encode(const uint8_t *p, size_t n, char *out);

#define SKIFF_BASE64_OTHER (-1) /* not in the alphabet */
#define SKIFF_BASE64_PAD (-2)   /* '=' */

/* The 6-bit value of an alphabet character, or one of the two codes above.
 * Each decoder decides what to do with padding and other characters. */
int skiff_base64_value(unsigned char c);

#endif
