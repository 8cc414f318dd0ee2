/*
 * sha1.c — SHA-1 (FIPS 180-4): 64-byte blocks, 80 rounds, big-endian words,
 * the message padded with 0x80, zeros and its length in bits (u64be).
 * Invariant: `used` < 64 between calls; `length` counts every byte given.
 */
#include <string.h>

#include "sha1.h"

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void block(struct skiff_sha1 *s, const uint8_t *p)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999u;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1u;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDCu;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6u;
		}
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

void skiff_sha1_init(struct skiff_sha1 *s)
{
	static const uint32_t iv[5] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u };
	memcpy(s->h, iv, sizeof(iv));
	s->length = 0;
	s->used = 0;
}

void skiff_sha1_update(struct skiff_sha1 *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	s->length += n;
	while (n > 0) {
		size_t take = 64 - s->used;
		if (take > n)
			take = n;
		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used == 64) {
			block(s, s->block);
			s->used = 0;
		}
	}
}

void skiff_sha1_final(struct skiff_sha1 *s, uint8_t out[SKIFF_SHA1_SIZE])
{
	uint64_t bits = s->length * 8;
	uint8_t pad = 0x80;
	skiff_sha1_update(s, &pad, 1);
	pad = 0;
	while (s->used != 56)
		skiff_sha1_update(s, &pad, 1);
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	skiff_sha1_update(s, len, 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void skiff_sha1(const void *p, size_t n, uint8_t out[SKIFF_SHA1_SIZE])
{
	struct skiff_sha1 s;
	skiff_sha1_init(&s);
	skiff_sha1_update(&s, p, n);
	skiff_sha1_final(&s, out);
}
