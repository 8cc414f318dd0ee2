/*
 * lua-crypt.c — skynet.crypt: the primitives of skynet's login protocol.
 *
 * Every function returns exactly the bytes skynet's module returns for the
 * same arguments, because game clients written for skynet compute the other
 * half of each exchange. Where a library already implements the primitive,
 * it is used:
 *   OpenSSL libcrypto  sha1, hmac_sha1 (HMAC), hmac64_md5 (MD5), DES blocks
 *   libsodium          randomkey (randombytes_buf), base64encode
 * What no library offers is written here:
 *   hashkey     two 32-bit string hashes side by side, little-endian:
 *               djb: h = 5381;       h += (h << 5) + c   (per byte c)
 *               js:  h = 1315423911; h ^= (h << 5) + c + (h >> 2)
 *   hmac64      one MD5 compression of a 64-byte block made of the two 8-byte
 *               arguments, started from MD5's initial state, *without* the
 *               final feed-forward and without padding; see mix64() below
 *   dhexchange  5^x mod p, dhsecret x^y mod p, p = 2^64 - 59 (largest 64-bit
 *               prime); 8-byte little-endian numbers
 *   DES padding (ISO 7816-4 by default, PKCS#7 on request) around ECB blocks
 *   base64decode, whose tolerance (characters outside the alphabet skipped,
 *               missing trailing '=' accepted) is skynet's, not RFC 4648's
 *
 * Error texts are skynet's ("Invalid key size 3, need 8 bytes", ...), since
 * scripts match on them.
 *
 * Single DES comes from OpenSSL's DES_ecb_encrypt: the EVP interface only
 * offers DES through the "legacy" provider, which would have to be loaded
 * into the process; the DES_* block functions are deprecated in OpenSSL 3 but
 * still part of libcrypto and need no provider.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "lua-crypt.h"
#include "base64.h"
#include "hex.h"

#include <lauxlib.h>
#include <stdint.h>
#include <string.h>

#include <openssl/des.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

/* Little-endian 32-bit words, the byte order of every skynet 8-byte value. */
static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void push_le64(lua_State *L, uint64_t v)
{
	uint8_t out[8];
	put_le32(out, (uint32_t)v);
	put_le32(out + 4, (uint32_t)(v >> 32));
	lua_pushlstring(L, (const char *)out, 8);
}

/* Argument arg as exactly 8 bytes, or the error `msg` (skynet's texts). */
static const uint8_t *check8(lua_State *L, int arg, const char *msg)
{
	size_t sz;
	const char *s = luaL_checklstring(L, arg, &sz);
	if (sz != 8)
		luaL_error(L, "%s", msg);
	return (const uint8_t *)s;
}

/* ---------------------------------------------------------------- hashkey */

static void hashkey(const uint8_t *s, size_t sz, uint8_t out[8])
{
	uint32_t djb = 5381;
	uint32_t js = 1315423911;
	for (size_t i = 0; i < sz; i++) {
		djb += (djb << 5) + s[i];
		js ^= (js << 5) + s[i] + (js >> 2);
	}
	put_le32(out, djb);
	put_le32(out + 4, js);
}

static int lhashkey(lua_State *L)
{
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	uint8_t key[8];
	hashkey((const uint8_t *)s, sz, key);
	lua_pushlstring(L, (const char *)key, 8);
	return 1;
}

/*
 * 8 random bytes. As in skynet, when their XOR is 0 bit 0 of the first byte is
 * set, which guarantees the key is not all zeros (dhexchange rejects 0).
 */
static int lrandomkey(lua_State *L)
{
	uint8_t key[8];
	randombytes_buf(key, sizeof key);
	uint8_t x = 0;
	for (int i = 0; i < 8; i++)
		x ^= key[i];
	if (x == 0)
		key[0] |= 1;
	lua_pushlstring(L, (const char *)key, 8);
	return 1;
}

/* -------------------------------------------------------------------- DES */

enum { PAD_ISO7816_4 = 0, PAD_PKCS7 = 1, PAD_COUNT };

static int check_padding(lua_State *L, int arg)
{
	lua_Integer mode = luaL_optinteger(L, arg, PAD_ISO7816_4);
	if (mode < 0 || mode >= PAD_COUNT)
		luaL_error(L, "Invalid padding mode %d", (int)mode);
	return (int)mode;
}

static void des_schedule(lua_State *L, DES_key_schedule *ks)
{
	size_t sz;
	const char *key = luaL_checklstring(L, 1, &sz);
	if (sz != 8)
		luaL_error(L, "Invalid key size %d, need 8 bytes", (int)sz);
	DES_cblock k;
	memcpy(k, key, 8);
	/* parity bits are ignored, as every DES key schedule does */
	DES_set_key_unchecked(&k, ks);
}

static void des_block(const DES_key_schedule *ks, const uint8_t *in, uint8_t *out, int enc)
{
	DES_cblock i, o;
	memcpy(i, in, 8);
	DES_ecb_encrypt(&i, &o, (DES_key_schedule *)ks, enc);
	memcpy(out, o, 8);
}

/*
 * desencode(key, text [, padding]): ECB blocks of text, then one last block
 * holding the 0..7 remaining bytes and the padding, so the result is always
 * 1..8 bytes longer than text.
 */
/* the key schedule of argument 1 and the text of argument 2, for both ways */
static const uint8_t *des_args(lua_State *L, DES_key_schedule *ks, size_t *sz)
{
	des_schedule(L, ks);
	return (const uint8_t *)luaL_checklstring(L, 2, sz);
}

static int ldesencode(lua_State *L)
{
	DES_key_schedule ks;
	size_t sz;
	const uint8_t *text = des_args(L, &ks, &sz);
	int mode = check_padding(L, 3);
	size_t full = sz & ~(size_t)7;
	luaL_Buffer b;
	uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, full + 8);
	for (size_t i = 0; i < full; i += 8)
		des_block(&ks, text + i, out + i, DES_ENCRYPT);
	uint8_t last[8];
	size_t rest = sz - full;
	memcpy(last, text + full, rest);
	if (mode == PAD_ISO7816_4) {
		last[rest] = 0x80;
		memset(last + rest + 1, 0, 7 - rest);
	} else {
		memset(last + rest, (int)(8 - rest), 8 - rest);
	}
	des_block(&ks, last, out + full, DES_ENCRYPT);
	luaL_pushresultsize(&b, full + 8);
	return 1;
}

/* Padding length at the end of the 8-byte block `blk`, or 0 if malformed. */
static int padding_len(const uint8_t blk[8], int mode)
{
	if (mode == PAD_ISO7816_4) {
		/* zero or more 0x00 after one 0x80 */
		for (int n = 1; n <= 8; n++) {
			uint8_t c = blk[8 - n];
			if (c == 0x80)
				return n;
			if (c != 0)
				return 0;
		}
		return 0;
	}
	int n = blk[7];
	if (n < 1 || n > 8)
		return 0;
	for (int i = 8 - n; i < 7; i++) {
		if (blk[i] != n)
			return 0;
	}
	return n;
}

static int ldesdecode(lua_State *L)
{
	DES_key_schedule ks;
	size_t sz;
	const uint8_t *text = des_args(L, &ks, &sz);
	if (sz == 0 || (sz & 7) != 0)
		return luaL_error(L, "Invalid des crypt text length %d", (int)sz);
	int mode = check_padding(L, 3);
	luaL_Buffer b;
	uint8_t *out = (uint8_t *)luaL_buffinitsize(L, &b, sz);
	for (size_t i = 0; i < sz; i += 8)
		des_block(&ks, text + i, out + i, DES_DECRYPT);
	int pad = padding_len(out + sz - 8, mode);
	if (pad == 0)
		return luaL_error(L, "Invalid des crypt text");
	luaL_pushresultsize(&b, sz - (size_t)pad);
	return 1;
}

/* -------------------------------------------------------------------- hex */

static int lhexencode(lua_State *L)
{
	size_t sz;
	const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &sz);
	if (sz > (SIZE_MAX >> 1))
		return luaL_error(L, "string too large");
	hex_push(L, s, sz);
	return 1;
}

static int lhexdecode(lua_State *L)
{
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	if (sz & 1)
		return luaL_error(L, "Invalid hex text size %d", (int)sz);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, sz / 2);
	for (size_t i = 0; i < sz; i += 2) {
		int hi = hex_value((unsigned char)s[i]);
		int lo = hex_value((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return luaL_error(L, "Invalid hex text");
		out[i / 2] = (char)(hi << 4 | lo);
	}
	luaL_pushresultsize(&b, sz / 2);
	return 1;
}

/* ----------------------------------------------------------------- hmac64 */

/* MD5's per-step additive constants (RFC 1321, the table T[1..64]). */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Rotation amounts, four per round. */
static const uint8_t md5_s[4][4] = {
	{ 7, 12, 17, 22 },
	{ 5, 9, 14, 20 },
	{ 4, 11, 16, 23 },
	{ 6, 10, 15, 21 },
};

static uint32_t rotl32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/*
 * The 64 steps of MD5 on one block m[16], from MD5's initial state, with no
 * feed-forward: state[] is what the steps leave in a, b, c, d. (OpenSSL's
 * MD5 always adds the input state back, which hmac64 does not.)
 */
static void md5_steps(const uint32_t m[16], uint32_t state[4])
{
	uint32_t a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
	for (int i = 0; i < 64; i++) {
		uint32_t f;
		int k;
		switch (i >> 4) {
		case 0:
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:
			f = (d & b) | (~d & c);
			k = (5 * i + 1) & 15;
			break;
		case 2:
			f = b ^ c ^ d;
			k = (3 * i + 5) & 15;
			break;
		default:
			f = c ^ (b | ~d);
			k = (7 * i) & 15;
			break;
		}
		uint32_t t = d;
		d = c;
		c = b;
		b = b + rotl32(a + f + md5_t[i] + m[k], md5_s[i >> 4][i & 3]);
		a = t;
	}
	state[0] = a;
	state[1] = b;
	state[2] = c;
	state[3] = d;
}

/*
 * hmac64(x, y): x and y read as little-endian word pairs (x0, x1), (y0, y1);
 * the block is (x1, x0, y1, y0) four times; the result is the words
 * (c ^ d, a ^ b) of md5_steps, little-endian.
 */
static uint64_t mix64(const uint8_t x[8], const uint8_t y[8])
{
	uint32_t m[16];
	uint32_t x0 = get_le32(x), x1 = get_le32(x + 4);
	uint32_t y0 = get_le32(y), y1 = get_le32(y + 4);
	for (int i = 0; i < 16; i += 4) {
		m[i] = x1;
		m[i + 1] = x0;
		m[i + 2] = y1;
		m[i + 3] = y0;
	}
	uint32_t st[4];
	md5_steps(m, st);
	return (uint64_t)(st[2] ^ st[3]) | (uint64_t)(st[0] ^ st[1]) << 32;
}

static int lhmac64(lua_State *L)
{
	const uint8_t *x = check8(L, 1, "Invalid uint64 x");
	const uint8_t *y = check8(L, 2, "Invalid uint64 y");
	push_le64(L, mix64(x, y));
	return 1;
}

/* hmac_hash(key, text) = hmac64(hashkey(text), key) */
static int lhmac_hash(lua_State *L)
{
	const uint8_t *key = check8(L, 1, "Invalid uint64 key");
	size_t sz;
	const char *text = luaL_checklstring(L, 2, &sz);
	uint8_t h[8];
	hashkey((const uint8_t *)text, sz, h);
	push_le64(L, mix64(h, key));
	return 1;
}

/*
 * hmac64_md5(x, y): m = MD5(x..y..x..y..x..y) (48 bytes); the result is
 * m[1..8] XOR m[9..16].
 */
static int lhmac64_md5(lua_State *L)
{
	const uint8_t *x = check8(L, 1, "Invalid uint64 x");
	const uint8_t *y = check8(L, 2, "Invalid uint64 y");
	uint8_t msg[48];
	for (int i = 0; i < 48; i += 16) {
		memcpy(msg + i, x, 8);
		memcpy(msg + i + 8, y, 8);
	}
	uint8_t md[EVP_MAX_MD_SIZE];
	if (!EVP_Digest(msg, sizeof msg, md, NULL, EVP_md5(), NULL))
		return luaL_error(L, "md5 failed (OpenSSL)");
	uint8_t out[8];
	for (int i = 0; i < 8; i++)
		out[i] = md[i] ^ md[i + 8];
	lua_pushlstring(L, (const char *)out, 8);
	return 1;
}

/* --------------------------------------------------------------------- DH */

#define DH_P 0xffffffffffffffc5ULL /* 2^64 - 59 */
#define DH_G 5

__extension__ typedef unsigned __int128 u128;

static uint64_t mulmod(uint64_t a, uint64_t b)
{
	return (uint64_t)((u128)a * b % DH_P);
}

/*
 * a^e mod p for e >= 1. A base above p is reduced first; skynet's version
 * returns the base itself when e == 1, which differs from a^1 mod p only for
 * a == p exactly, and that case is kept.
 */
static uint64_t powmod(uint64_t a, uint64_t e)
{
	if (a > DH_P)
		a %= DH_P;
	if (e == 1)
		return a;
	uint64_t r = 1;
	while (e) {
		if (e & 1)
			r = mulmod(r, a);
		a = mulmod(a, a);
		e >>= 1;
	}
	return r;
}

static int ldhexchange(lua_State *L)
{
	uint64_t x = get_le64(check8(L, 1, "Invalid dh uint64 key"));
	if (x == 0)
		return luaL_error(L, "Can't be 0");
	push_le64(L, powmod(DH_G, x));
	return 1;
}

static int ldhsecret(lua_State *L)
{
	uint64_t x = get_le64(check8(L, 1, "Invalid uint64 x"));
	uint64_t y = get_le64(check8(L, 2, "Invalid uint64 y"));
	if (x == 0 || y == 0)
		return luaL_error(L, "Can't be 0");
	push_le64(L, powmod(x, y));
	return 1;
}

/* ----------------------------------------------------------------- base64 */

static int lbase64encode(lua_State *L)
{
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	if (sz > (SIZE_MAX / 4 - 1) * 3)
		return luaL_error(L, "string too large");
	size_t cap = sodium_base64_ENCODED_LEN(sz, sodium_base64_VARIANT_ORIGINAL);
	luaL_Buffer b;
	char *out = luaL_buffinitsize(L, &b, cap);
	sodium_bin2base64(out, cap, (const unsigned char *)s, sz, sodium_base64_VARIANT_ORIGINAL);
	luaL_pushresultsize(&b, cap - 1); /* cap counts the NUL */
	return 1;
}

/* In base64decode, characters outside the alphabet are skipped (line breaks,
 * spaces), and running off the end counts as padding. */
#define B64_SKIP SKIFF_BASE64_OTHER
#define B64_PAD SKIFF_BASE64_PAD

/*
 * Groups of four symbols, skipping characters outside the alphabet; past the
 * end of the text, symbols read as '='. A group is "xxxx", "xxx=" or "xx=="
 * with the unused low bits zero; anything else (which includes a group made
 * only of the end of the text) is an error, as in skynet.
 */
static int lbase64decode(lua_State *L)
{
	size_t sz;
	const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &sz);
	luaL_Buffer b;
	unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, sz / 4 * 3 + 3);
	size_t n = 0;
	size_t i = 0;
	while (i < sz) {
		int c[4];
		int pads = 0;
		for (int j = 0; j < 4; j++) {
			int v = B64_SKIP;
			while (i < sz && (v = skiff_base64_value(s[i++])) == B64_SKIP)
				;
			if (v == B64_SKIP)
				v = B64_PAD; /* ran off the end */
			c[j] = v;
			pads += v == B64_PAD;
		}
		if (pads == 0) {
			uint32_t v = (uint32_t)c[0] << 18 | (uint32_t)c[1] << 12 | (uint32_t)c[2] << 6 |
			             (uint32_t)c[3];
			out[n++] = (unsigned char)(v >> 16);
			out[n++] = (unsigned char)(v >> 8);
			out[n++] = (unsigned char)v;
		} else if (pads == 1 && c[3] == B64_PAD && (c[2] & 3) == 0) {
			uint32_t v = (uint32_t)c[0] << 10 | (uint32_t)c[1] << 4 | (uint32_t)c[2] >> 2;
			out[n++] = (unsigned char)(v >> 8);
			out[n++] = (unsigned char)v;
		} else if (pads == 2 && c[2] == B64_PAD && c[3] == B64_PAD && (c[1] & 15) == 0) {
			out[n++] = (unsigned char)((uint32_t)c[0] << 2 | (uint32_t)c[1] >> 4);
		} else {
			return luaL_error(L, "Invalid base64 text");
		}
	}
	luaL_pushresultsize(&b, n);
	return 1;
}

/* ------------------------------------------------------------------ SHA-1 */

/* Pushes a digest as raw bytes or as lowercase hex; returns 1 (results). */
static int push_md(lua_State *L, const unsigned char *md, unsigned len, int hex)
{
	if (hex)
		hex_push(L, md, len);
	else
		lua_pushlstring(L, (const char *)md, len);
	return 1;
}

int crypt_push_digest(lua_State *L, const EVP_MD *type, const char *what, int hex)
{
	size_t sz;
	const char *s = luaL_checklstring(L, 1, &sz);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (!EVP_Digest(s, sz, md, &len, type, NULL))
		return luaL_error(L, "%s failed (OpenSSL)", what);
	return push_md(L, md, len, hex);
}

int crypt_push_hmac(lua_State *L, const EVP_MD *type, int key_arg, int text_arg, const char *what, int hex)
{
	size_t ksz, tsz;
	const char *key = luaL_checklstring(L, key_arg, &ksz);
	const char *text = luaL_checklstring(L, text_arg, &tsz);
	if (ksz > INT32_MAX)
		return luaL_error(L, "key too large");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (HMAC(type, key, (int)ksz, (const unsigned char *)text, tsz, md, &len) == NULL)
		return luaL_error(L, "%s failed (OpenSSL)", what);
	return push_md(L, md, len, hex);
}

static int lsha1(lua_State *L)
{
	return crypt_push_digest(L, EVP_sha1(), "sha1", 0);
}

/* hmac_sha1(key, text): RFC 2104 HMAC with SHA-1. */
static int lhmac_sha1(lua_State *L)
{
	return crypt_push_hmac(L, EVP_sha1(), 1, 2, "hmac_sha1", 0);
}

/* -------------------------------------------------------------------- xor */

/* xor_str(a, b): a XOR b repeated to a's length. */
static int lxor_str(lua_State *L)
{
	size_t sa, sb;
	const char *a = luaL_checklstring(L, 1, &sa);
	const char *b = luaL_checklstring(L, 2, &sb);
	if (sb == 0)
		return luaL_error(L, "Can't xor empty string");
	luaL_Buffer buf;
	char *out = luaL_buffinitsize(L, &buf, sa);
	for (size_t i = 0, j = 0; i < sa; i++) {
		out[i] = a[i] ^ b[j];
		if (++j == sb)
			j = 0;
	}
	luaL_pushresultsize(&buf, sa);
	return 1;
}

int luaopen_skynet_crypt(lua_State *L)
{
	luaL_checkversion(L);
	/* thread-safe and idempotent; randombytes_buf needs it first */
	if (sodium_init() < 0)
		return luaL_error(L, "skynet.crypt: sodium_init failed");
	static const luaL_Reg l[] = {
		{ "hashkey", lhashkey },
		{ "randomkey", lrandomkey },
		{ "desencode", ldesencode },
		{ "desdecode", ldesdecode },
		{ "hexencode", lhexencode },
		{ "hexdecode", lhexdecode },
		{ "hmac64", lhmac64 },
		{ "hmac64_md5", lhmac64_md5 },
		{ "dhexchange", ldhexchange },
		{ "dhsecret", ldhsecret },
		{ "base64encode", lbase64encode },
		{ "base64decode", lbase64decode },
		{ "sha1", lsha1 },
		{ "hmac_sha1", lhmac_sha1 },
		{ "hmac_hash", lhmac_hash },
		{ "xor_str", lxor_str },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	/* crypt.padding: the third argument of desencode/desdecode */
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, PAD_ISO7816_4);
	lua_setfield(L, -2, "iso7816_4");
	lua_pushinteger(L, PAD_PKCS7);
	lua_setfield(L, -2, "pkcs7");
	lua_setfield(L, -2, "padding");
	return 1;
}

int luaopen_client_crypt(lua_State *L)
{
	return luaopen_skynet_crypt(L);
}
