/*
 * name_registry.h — the harbor master's global names, as a pure data structure
 * (no runtime, no sockets) so the rules can be tested and fuzzed on their own.
 *
 * Rules:
 *   - a node binds names only to its own services: the handle is nonzero and
 *     its high 8 bits are the node's id (1..255); a name is 1..15 bytes;
 *   - the first binding of a name wins;
 *   - when a node leaves, its names stop resolving but stay reserved for its
 *     id: only that id (its next incarnation) may bind them again, so nobody
 *     squats a restarting node's names;
 *   - a withdraw by the owning node (its service exited) frees the name for
 *     everybody.
 * Invariant: every entry either is bound (handle != 0, owner == handle >> 24)
 * or reserved (handle == 0, owner = the node that left); names are unique.
 */
#ifndef SKIFF_NAME_REGISTRY_H
#define SKIFF_NAME_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harbor.pb-c.h"

#define GLOBAL_NAME_BYTES 15

struct name_entry {
	char name[GLOBAL_NAME_BYTES + 1];
	uint32_t handle; /* 0: reserved for owner */
	int owner;       /* node id, 1..255 */
};

struct skynet_strmap;

/* name -> struct name_entry (each entry allocated on its own, so a pointer to
 * one stays valid until that name is withdrawn or the registry freed). */
struct name_registry {
	struct skynet_strmap *map; /* NULL until the first binding */
};

enum name_verdict {
	NAME_BOUND,   /* a new binding (or the owner's name back): tell every node */
	NAME_TAKEN,   /* another binding won: tell the registrant *entry */
	NAME_REFUSED, /* not allowed (*why): the registrant must drop its binding */
};

/* A zeroed struct is an empty registry. */
void name_registry_free(struct name_registry *r);

/* Node `node` binds b (a decoded NameBinding; NULL or with a NULL name is
 * refused).  *entry is the binding in force for NAME_BOUND and NAME_TAKEN, the
 * reserved entry when NAME_REFUSED is for a name reserved for another node,
 * else NULL; *why says what was wrong for NAME_REFUSED. */
enum name_verdict name_registry_bind(struct name_registry *r, int node, const Skiff__Harbor__NameBinding *b,
                                     const struct name_entry **entry, const char **why);

/* The bound entry of `name`; NULL if unknown or reserved. */
const struct name_entry *name_registry_find(const struct name_registry *r, const char *name);

/* The entry of `name`, bound or reserved; NULL if unknown. */
const struct name_entry *name_registry_entry(const struct name_registry *r, const char *name);

/* How many entries (bound and reserved). */
size_t name_registry_count(const struct name_registry *r);

/* Walks every entry: `size_t pos = 0; while ((e = name_registry_next(r, &pos)))`;
 * the registry must not change during the walk. */
const struct name_entry *name_registry_next(const struct name_registry *r, size_t *pos);

/* Node `node` withdraws b; true if it held exactly that binding (now gone). */
bool name_registry_withdraw(struct name_registry *r, int node, const Skiff__Harbor__NameBinding *b);

/* Node `node` left: its bound names become reserved for it. */
void name_registry_node_left(struct name_registry *r, int node);

/* 1..15 bytes, NUL terminated. */
bool name_registry_valid(const char *name);

#endif
