/*
 * maps.h — the two small hash tables the cluster service needs: integer keys
 * (sockets, sessions, part ids, source handles) and string keys (node names,
 * registered names).  Chained buckets, power-of-two sizes, grown at load 1.
 * Values are borrowed pointers: the maps never free them.
 */
#ifndef SKIFF_CLUSTER_MAPS_H
#define SKIFF_CLUSTER_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct imap_entry {
	struct imap_entry *next;
	uint32_t key;
	void *value;
};

struct imap {
	struct imap_entry **bucket;
	size_t mask;      /* bucket count - 1; 0 with no buckets yet */
	size_t count;
};

/* Zero-initialised maps are empty and valid. */
void *imap_get(const struct imap *m, uint32_t key);
/* Inserts or replaces; -1 when out of memory. */
int imap_put(struct imap *m, uint32_t key, void *value);
/* Removes the key and returns its value (NULL if absent). */
void *imap_take(struct imap *m, uint32_t key);
/* Removes every entry, calling fn(value, ud) on each if fn is not NULL. */
void imap_clear(struct imap *m, void (*fn)(void *value, void *ud), void *ud);
/* Calls fn on every entry; fn must not change the map. */
void imap_each(const struct imap *m, void (*fn)(uint32_t key, void *value, void *ud), void *ud);

struct smap_entry {
	struct smap_entry *next;
	uint32_t hash;
	void *value;
	char key[];
};

struct smap {
	struct smap_entry **bucket;
	size_t mask;
	size_t count;
};

void *smap_get(const struct smap *m, const char *key);
int smap_put(struct smap *m, const char *key, void *value);
void *smap_take(struct smap *m, const char *key);
void smap_clear(struct smap *m, void (*fn)(void *value, void *ud), void *ud);
void smap_each(const struct smap *m, void (*fn)(const char *key, void *value, void *ud), void *ud);

#endif
