/*
 * skynet_hashmap.c — integer- and string-keyed hash maps (API and rules in
 * skynet_hashmap.h).
 *
 * Invariants, for both maps:
 *   - cap is 0 (no table yet) or a power of two, and n * 2 <= cap;
 *   - every entry sits in the run of occupied slots that starts at its home
 *     slot (hash & (cap - 1)) without a free slot in between, which is what a
 *     lookup relies on; deletion keeps it by moving later entries of the run
 *     back (backward shift) instead of leaving tombstones.
 */
#include "skynet_hashmap.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then mixed */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mix64(h);
}

/* Slot i is free once its entry moved away; should the entry at j (home k)
 * move back to i?  Yes unless k lies cyclically in (i, j]. */
static bool shift_back(size_t i, size_t j, size_t k)
{
	return i <= j ? (k <= i || k > j) : (k <= i && k > j);
}

/* ---- uint64 keys ------------------------------------------------------------ */

struct u64slot {
	uint64_t key, value;
	bool used;
};

struct skynet_u64map {
	struct u64slot *slot;
	size_t cap, n;
};

struct skynet_u64map *skynet_u64map_new(void)
{
	return calloc(1, sizeof(struct skynet_u64map));
}

void skynet_u64map_free(struct skynet_u64map *m)
{
	if (m) {
		free(m->slot);
		free(m);
	}
}

size_t skynet_u64map_count(const struct skynet_u64map *m)
{
	return m->n;
}

/* The slot holding key, or the free slot where it would go (cap > 0). */
static size_t u64_find(const struct skynet_u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)mix64(key) & mask;
	while (m->slot[i].used && m->slot[i].key != key)
		i = (i + 1) & mask;
	return i;
}

static int u64_grow(struct skynet_u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : MIN_CAP;
	struct u64slot *slot = calloc(cap, sizeof(*slot));
	if (slot == NULL)
		return -1;
	struct u64slot *old = m->slot;
	size_t oldcap = m->cap;
	m->slot = slot;
	m->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used)
			m->slot[u64_find(m, old[i].key)] = old[i];
	free(old);
	return 0;
}

int skynet_u64map_put(struct skynet_u64map *m, uint64_t key, uint64_t value)
{
	if (m->cap) {
		size_t i = u64_find(m, key);
		if (m->slot[i].used) {
			m->slot[i].value = value;
			return 0;
		}
	}
	if ((m->n + 1) * 2 > m->cap && u64_grow(m) != 0)
		return -1;
	size_t i = u64_find(m, key);
	m->slot[i].key = key;
	m->slot[i].value = value;
	m->slot[i].used = true;
	m->n++;
	return 0;
}

bool skynet_u64map_get(const struct skynet_u64map *m, uint64_t key, uint64_t *value)
{
	if (m->n == 0)
		return false;
	size_t i = u64_find(m, key);
	if (!m->slot[i].used)
		return false;
	if (value)
		*value = m->slot[i].value;
	return true;
}

bool skynet_u64map_del(struct skynet_u64map *m, uint64_t key, uint64_t *value)
{
	if (m->n == 0)
		return false;
	size_t mask = m->cap - 1;
	size_t i = u64_find(m, key);
	if (!m->slot[i].used)
		return false;
	if (value)
		*value = m->slot[i].value;
	m->slot[i].used = false;
	m->n--;
	for (size_t j = (i + 1) & mask; m->slot[j].used; j = (j + 1) & mask) {
		size_t k = (size_t)mix64(m->slot[j].key) & mask;
		if (shift_back(i, j, k)) {
			m->slot[i] = m->slot[j];
			m->slot[j].used = false;
			i = j;
		}
	}
	return true;
}

bool skynet_u64map_next(const struct skynet_u64map *m, size_t *pos, uint64_t *key, uint64_t *value)
{
	for (size_t i = *pos; i < m->cap; i++) {
		if (m->slot[i].used) {
			if (key)
				*key = m->slot[i].key;
			if (value)
				*value = m->slot[i].value;
			*pos = i + 1;
			return true;
		}
	}
	*pos = m->cap;
	return false;
}

void skynet_u64map_clear(struct skynet_u64map *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n = 0;
}

/* ---- string keys ------------------------------------------------------------ */

struct strslot {
	char *key; /* NULL: free */
	void *value;
	uint64_t hash;
};

struct skynet_strmap {
	struct strslot *slot;
	size_t cap, n;
};

struct skynet_strmap *skynet_strmap_new(void)
{
	return calloc(1, sizeof(struct skynet_strmap));
}

void skynet_strmap_clear(struct skynet_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slot[i].key);
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n = 0;
}

void skynet_strmap_free(struct skynet_strmap *m)
{
	if (m) {
		skynet_strmap_clear(m);
		free(m);
	}
}

size_t skynet_strmap_count(const struct skynet_strmap *m)
{
	return m->n;
}

static size_t str_find(const struct skynet_strmap *m, const char *key, uint64_t hash)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)hash & mask;
	while (m->slot[i].key && (m->slot[i].hash != hash || strcmp(m->slot[i].key, key) != 0))
		i = (i + 1) & mask;
	return i;
}

static int str_grow(struct skynet_strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : MIN_CAP;
	struct strslot *slot = calloc(cap, sizeof(*slot));
	if (slot == NULL)
		return -1;
	struct strslot *old = m->slot;
	size_t oldcap = m->cap;
	m->slot = slot;
	m->cap = cap;
	size_t mask = cap - 1;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		size_t j = (size_t)old[i].hash & mask;
		while (m->slot[j].key)
			j = (j + 1) & mask;
		m->slot[j] = old[i];
	}
	free(old);
	return 0;
}

int skynet_strmap_put(struct skynet_strmap *m, const char *key, void *value)
{
	uint64_t hash = str_hash(key);
	if (m->cap) {
		size_t i = str_find(m, key, hash);
		if (m->slot[i].key) {
			m->slot[i].value = value;
			return 0;
		}
	}
	size_t len = strlen(key) + 1;
	char *copy = malloc(len);
	if (copy == NULL)
		return -1;
	if ((m->n + 1) * 2 > m->cap && str_grow(m) != 0) {
		free(copy);
		return -1;
	}
	memcpy(copy, key, len);
	size_t i = str_find(m, key, hash);
	m->slot[i].key = copy;
	m->slot[i].value = value;
	m->slot[i].hash = hash;
	m->n++;
	return 0;
}

bool skynet_strmap_get(const struct skynet_strmap *m, const char *key, void **value)
{
	if (m->n == 0)
		return false;
	size_t i = str_find(m, key, str_hash(key));
	if (m->slot[i].key == NULL)
		return false;
	if (value)
		*value = m->slot[i].value;
	return true;
}

void *skynet_strmap_find(const struct skynet_strmap *m, const char *key)
{
	void *v = NULL;
	return skynet_strmap_get(m, key, &v) ? v : NULL;
}

bool skynet_strmap_del(struct skynet_strmap *m, const char *key, void **value)
{
	if (m->n == 0)
		return false;
	size_t mask = m->cap - 1;
	size_t i = str_find(m, key, str_hash(key));
	if (m->slot[i].key == NULL)
		return false;
	if (value)
		*value = m->slot[i].value;
	free(m->slot[i].key);
	m->slot[i].key = NULL;
	m->n--;
	for (size_t j = (i + 1) & mask; m->slot[j].key; j = (j + 1) & mask) {
		size_t k = (size_t)m->slot[j].hash & mask;
		if (shift_back(i, j, k)) {
			m->slot[i] = m->slot[j];
			m->slot[j].key = NULL;
			i = j;
		}
	}
	return true;
}

bool skynet_strmap_next(const struct skynet_strmap *m, size_t *pos, const char **key, void **value)
{
	for (size_t i = *pos; i < m->cap; i++) {
		if (m->slot[i].key) {
			if (key)
				*key = m->slot[i].key;
			if (value)
				*value = m->slot[i].value;
			*pos = i + 1;
			return true;
		}
	}
	*pos = m->cap;
	return false;
}
