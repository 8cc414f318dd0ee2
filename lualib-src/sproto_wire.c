/*
 * sproto_wire.c — reading an encoded sproto struct, and 0-packing.
 *
 * Packing works on 8-byte words (the input is padded with zeros to a whole
 * word). A word becomes a tag byte whose bit i says byte i is not zero,
 * followed by the non-zero bytes. A word with no zero byte instead opens a
 * raw run: 0xff, then N, then (N + 1) words copied as they are. While a run
 * is open, words with 6 or 7 non-zero bytes join it too (copying them costs
 * no more than tagging them); a run holds at most 256 words.  These are the
 * choices of the reference packer, so packed bytes are identical to it.
 *
 * Unpacking trusts nothing: every byte a tag or a run promises must be there,
 * and the output size is known (and bounded by 8 bytes per input byte)
 * before anything is written.
 */
#include "sproto_wire.h"

#include <string.h>

static uint32_t rd16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int spw_reader_init(struct spw_reader *r, const uint8_t *buf, size_t len)
{
	if (len < 2)
		return -1;
	unsigned count = rd16(buf);
	if (len - 2 < (size_t)count * 2)
		return -1;
	r->entry = buf + 2;
	r->data = buf + 2 + (size_t)count * 2;
	r->end = buf + len;
	r->left = count;
	r->tag = -1;
	return 0;
}

int spw_reader_next(struct spw_reader *r, struct spw_field *f)
{
	while (r->left > 0) {
		uint32_t e = rd16(r->entry);
		r->entry += 2;
		r->left--;
		r->tag++;
		if (e & 1) {
			/* skip entry: (e - 1) / 2 more tags are absent */
			r->tag += (e - 1) / 2;
			continue;
		}
		f->tag = r->tag;
		if (e != 0) {
			f->data = NULL;
			f->size = 0;
			f->value = e / 2 - 1;
			return 1;
		}
		size_t avail = (size_t)(r->end - r->data);
		if (avail < 4)
			return -1;
		uint32_t sz = rd32(r->data);
		if (avail - 4 < sz)
			return -1;
		f->data = r->data + 4;
		f->size = sz;
		f->value = 0;
		r->data += 4 + (size_t)sz;
		return 1;
	}
	return 0;
}

size_t spw_pack_bound(size_t n)
{
	size_t words = (n + 7) / 8;
	/* a raw run costs 2 bytes more than its words, and a run holds at most
	 * 256 words; every other word costs at most 8 bytes */
	return words * 8 + (words / 256 + 1) * 2;
}

size_t spw_pack(const uint8_t *src, size_t n, uint8_t *dst)
{
	uint8_t *out = dst;
	uint8_t *run = NULL; /* the count byte of the open raw run */
	unsigned runwords = 0;
	for (size_t i = 0; i < n; i += 8) {
		uint8_t w[8];
		size_t take = n - i < 8 ? n - i : 8;
		memcpy(w, src + i, take);
		memset(w + take, 0, 8 - take);
		unsigned nz = 0;
		uint8_t tag = 0;
		for (int b = 0; b < 8; b++) {
			if (w[b]) {
				nz++;
				tag |= (uint8_t)(1u << b);
			}
		}
		if (runwords > 0 && nz >= 6) {
			memcpy(out, w, 8);
			out += 8;
			if (++runwords == 256) {
				*run = 255;
				runwords = 0;
			}
			continue;
		}
		if (runwords > 0) {
			*run = (uint8_t)(runwords - 1);
			runwords = 0;
		}
		if (nz == 8) {
			*out++ = 0xff;
			run = out++;
			memcpy(out, w, 8);
			out += 8;
			runwords = 1;
			continue;
		}
		*out++ = tag;
		for (int b = 0; b < 8; b++)
			if (w[b])
				*out++ = w[b];
	}
	if (runwords > 0)
		*run = (uint8_t)(runwords - 1);
	return (size_t)(out - dst);
}

int64_t spw_unpack_size(const uint8_t *src, size_t n)
{
	int64_t size = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t tag = src[i++];
		if (tag == 0xff) {
			if (i >= n)
				return -1;
			size_t bytes = ((size_t)src[i++] + 1) * 8;
			if (n - i < bytes)
				return -1;
			i += bytes;
			size += (int64_t)bytes;
		} else {
			size_t want = (size_t)__builtin_popcount(tag);
			if (n - i < want)
				return -1;
			i += want;
			size += 8;
		}
	}
	return size;
}

void spw_unpack(const uint8_t *src, size_t n, uint8_t *dst)
{
	size_t i = 0;
	while (i < n) {
		uint8_t tag = src[i++];
		if (tag == 0xff) {
			size_t bytes = ((size_t)src[i++] + 1) * 8;
			memcpy(dst, src + i, bytes);
			dst += bytes;
			i += bytes;
		} else {
			for (int b = 0; b < 8; b++)
				*dst++ = (tag >> b) & 1 ? src[i++] : 0;
		}
	}
}
