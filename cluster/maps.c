/*
 * maps.c — integer- and string-keyed chained hash tables (see maps.h).
 * Invariant: mask + 1 is the bucket count, a power of two, and count never
 * exceeds it after a put (the table doubles first).
 */
#include "maps.h"

#include <stdlib.h>
#include <string.h>

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static uint32_t strhash(const char *s)
{
	uint32_t h = 2166136261U;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619U;
	}
	return h;
}

/* Both maps share the growth rule: rehash every chain into twice the buckets. */
#define GROW(map, entry_type, hashof)                                                  \
	do {                                                                           \
		size_t n = (map)->bucket ? ((map)->mask + 1) * 2 : 16;                  \
		entry_type **nb = calloc(n, sizeof(*nb));                               \
		if (nb == NULL)                                                         \
			return -1;                                                      \
		if ((map)->bucket) {                                                    \
			for (size_t i = 0; i <= (map)->mask; i++) {                     \
				entry_type *e = (map)->bucket[i];                       \
				while (e) {                                             \
					entry_type *nx = e->next;                       \
					size_t j = (hashof) & (n - 1);                  \
					e->next = nb[j];                                \
					nb[j] = e;                                      \
					e = nx;                                         \
				}                                                       \
			}                                                               \
			free((map)->bucket);                                            \
		}                                                                       \
		(map)->bucket = nb;                                                     \
		(map)->mask = n - 1;                                                    \
	} while (0)

void *imap_get(const struct imap *m, uint32_t key)
{
	if (m->bucket == NULL)
		return NULL;
	for (struct imap_entry *e = m->bucket[mix32(key) & m->mask]; e; e = e->next)
		if (e->key == key)
			return e->value;
	return NULL;
}

int imap_put(struct imap *m, uint32_t key, void *value)
{
	if (m->bucket) {
		for (struct imap_entry *e = m->bucket[mix32(key) & m->mask]; e; e = e->next) {
			if (e->key == key) {
				e->value = value;
				return 0;
			}
		}
	}
	if (m->bucket == NULL || m->count > m->mask)
		GROW(m, struct imap_entry, mix32(e->key));
	struct imap_entry *e = malloc(sizeof(*e));
	if (e == NULL)
		return -1;
	size_t i = mix32(key) & m->mask;
	e->key = key;
	e->value = value;
	e->next = m->bucket[i];
	m->bucket[i] = e;
	m->count++;
	return 0;
}

void *imap_take(struct imap *m, uint32_t key)
{
	if (m->bucket == NULL)
		return NULL;
	struct imap_entry **pp = &m->bucket[mix32(key) & m->mask];
	for (; *pp; pp = &(*pp)->next) {
		struct imap_entry *e = *pp;
		if (e->key == key) {
			void *v = e->value;
			*pp = e->next;
			free(e);
			m->count--;
			return v;
		}
	}
	return NULL;
}

void imap_clear(struct imap *m, void (*fn)(void *value, void *ud), void *ud)
{
	if (m->bucket == NULL)
		return;
	for (size_t i = 0; i <= m->mask; i++) {
		struct imap_entry *e = m->bucket[i];
		while (e) {
			struct imap_entry *nx = e->next;
			if (fn)
				fn(e->value, ud);
			free(e);
			e = nx;
		}
	}
	free(m->bucket);
	m->bucket = NULL;
	m->mask = 0;
	m->count = 0;
}

void imap_each(const struct imap *m, void (*fn)(uint32_t key, void *value, void *ud), void *ud)
{
	if (m->bucket == NULL)
		return;
	for (size_t i = 0; i <= m->mask; i++)
		for (struct imap_entry *e = m->bucket[i]; e; e = e->next)
			fn(e->key, e->value, ud);
}

void *smap_get(const struct smap *m, const char *key)
{
	if (m->bucket == NULL)
		return NULL;
	uint32_t h = strhash(key);
	for (struct smap_entry *e = m->bucket[h & m->mask]; e; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e->value;
	return NULL;
}

int smap_put(struct smap *m, const char *key, void *value)
{
	uint32_t h = strhash(key);
	if (m->bucket) {
		for (struct smap_entry *e = m->bucket[h & m->mask]; e; e = e->next) {
			if (e->hash == h && strcmp(e->key, key) == 0) {
				e->value = value;
				return 0;
			}
		}
	}
	if (m->bucket == NULL || m->count > m->mask)
		GROW(m, struct smap_entry, e->hash);
	size_t len = strlen(key);
	struct smap_entry *e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return -1;
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->value = value;
	size_t i = h & m->mask;
	e->next = m->bucket[i];
	m->bucket[i] = e;
	m->count++;
	return 0;
}

void *smap_take(struct smap *m, const char *key)
{
	if (m->bucket == NULL)
		return NULL;
	uint32_t h = strhash(key);
	struct smap_entry **pp = &m->bucket[h & m->mask];
	for (; *pp; pp = &(*pp)->next) {
		struct smap_entry *e = *pp;
		if (e->hash == h && strcmp(e->key, key) == 0) {
			void *v = e->value;
			*pp = e->next;
			free(e);
			m->count--;
			return v;
		}
	}
	return NULL;
}

void smap_clear(struct smap *m, void (*fn)(void *value, void *ud), void *ud)
{
	if (m->bucket == NULL)
		return;
	for (size_t i = 0; i <= m->mask; i++) {
		struct smap_entry *e = m->bucket[i];
		while (e) {
			struct smap_entry *nx = e->next;
			if (fn)
				fn(e->value, ud);
			free(e);
			e = nx;
		}
	}
	free(m->bucket);
	m->bucket = NULL;
	m->mask = 0;
	m->count = 0;
}

void smap_each(const struct smap *m, void (*fn)(const char *key, void *value, void *ud), void *ud)
{
	if (m->bucket == NULL)
		return;
	for (size_t i = 0; i <= m->mask; i++)
		for (struct smap_entry *e = m->bucket[i]; e; e = e->next)
			fn(e->key, e->value, ud);
}
