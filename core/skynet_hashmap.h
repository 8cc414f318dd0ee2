/*
 * skynet_hashmap.h — the runtime's hash maps, for services and libraries that
 * would otherwise each write their own: one keyed by a 64-bit integer (32-bit
 * keys fit), one keyed by a NUL-terminated string.
 *
 * Both are open addressing with linear probing and deletion by backward shift
 * (no tombstones, so a map that sees many puts and deletes does not slow
 * down); the table doubles when it would become more than half full and is
 * never shrunk except by _clear.  Every key is allowed (0 and "" included).
 *
 * Ownership: the u64 map stores values by copy.  The string map keeps its own
 * copy of each key and stores the value pointer as given; it never frees what
 * a value points to.  Pointers returned by _next stay valid until the next
 * put, del or clear on that map.
 *
 * Iteration: `size_t pos = 0; while (x_next(m, &pos, &k, &v)) ...` visits
 * every entry once, in no particular order.  The map must not change during
 * a walk (a delete may move an entry across the walk's position); collect
 * the keys first, or walk and then _clear.
 *
 * Not thread-safe: one owner per map.  Memory comes from malloc (not
 * skynet_malloc), so the maps also work outside a node (tests, fuzzers).
 * Hashes are not keyed: keys must not be chosen by an unauthenticated peer in
 * bulk (the harbor's keys come from local services and authenticated nodes).
 */
#ifndef SKYNET_HASHMAP_H
#define SKYNET_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct skynet_u64map;

struct skynet_u64map *skynet_u64map_new(void);
void skynet_u64map_free(struct skynet_u64map *m);
size_t skynet_u64map_count(const struct skynet_u64map *m);
/* Adds or replaces; 0 on success, -1 when out of memory (the map is unchanged). */
int skynet_u64map_put(struct skynet_u64map *m, uint64_t key, uint64_t value);
/* True if key is present; *value (when value is not NULL) gets its value. */
bool skynet_u64map_get(const struct skynet_u64map *m, uint64_t key, uint64_t *value);
/* True if key was present (and is now gone); *value gets what it held. */
bool skynet_u64map_del(struct skynet_u64map *m, uint64_t key, uint64_t *value);
bool skynet_u64map_next(const struct skynet_u64map *m, size_t *pos, uint64_t *key, uint64_t *value);
void skynet_u64map_clear(struct skynet_u64map *m);

struct skynet_strmap;

struct skynet_strmap *skynet_strmap_new(void);
void skynet_strmap_free(struct skynet_strmap *m);
size_t skynet_strmap_count(const struct skynet_strmap *m);
/* Adds or replaces (the key is copied); 0 on success, -1 when out of memory. */
int skynet_strmap_put(struct skynet_strmap *m, const char *key, void *value);
/* True if key is present; *value (when value is not NULL) gets its value. */
bool skynet_strmap_get(const struct skynet_strmap *m, const char *key, void **value);
/* The value of key, NULL if absent (for maps that never store NULL). */
void *skynet_strmap_find(const struct skynet_strmap *m, const char *key);
bool skynet_strmap_del(struct skynet_strmap *m, const char *key, void **value);
/* *key points at the map's copy of the key. */
bool skynet_strmap_next(const struct skynet_strmap *m, size_t *pos, const char **key, void **value);
void skynet_strmap_clear(struct skynet_strmap *m);

#endif
