/*
 * name_registry.c — the master's global names (rules in name_registry.h).
 * A flat array with linear search: a cluster has tens to thousands of global
 * names, registrations are rare, and lookups by name happen only on the
 * master (nodes keep their own hashed replica).
 */
#include "name_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void name_registry_free(struct name_registry *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

bool name_registry_valid(const char *name)
{
	if (name == NULL)
		return false;
	size_t n = strnlen(name, GLOBAL_NAME_BYTES + 1);
	return n >= 1 && n <= GLOBAL_NAME_BYTES;
}

static struct name_entry *lookup(const struct name_registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

const struct name_entry *name_registry_find(const struct name_registry *r, const char *name)
{
	const struct name_entry *e = name_registry_valid(name) ? lookup(r, name) : NULL;
	return e && e->handle ? e : NULL;
}

static struct name_entry *add(struct name_registry *r, const char *name, uint32_t handle)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct name_entry *p = realloc(r->v, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		r->v = p;
		r->cap = cap;
	}
	struct name_entry *e = &r->v[r->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->handle = handle;
	e->owner = (int)(handle >> 24);
	return e;
}

enum name_verdict name_registry_bind(struct name_registry *r, int node,
                                     const Skiff__Harbor__NameBinding *b,
                                     const struct name_entry **entry, const char **why)
{
	*entry = NULL;
	*why = NULL;
	if (b == NULL || !name_registry_valid(b->name)) {
		*why = "not a valid global name (1..15 bytes)";
		return NAME_REFUSED;
	}
	if (node < 1 || node > 255 || b->handle == 0 || (int)(b->handle >> 24) != node) {
		*why = "a node can bind a name only to its own services";
		return NAME_REFUSED;
	}
	struct name_entry *e = lookup(r, b->name);
	if (e == NULL) {
		e = add(r, b->name, b->handle);
		if (e == NULL) {
			*why = "the master is out of memory";
			return NAME_REFUSED;
		}
		*entry = e;
		return NAME_BOUND;
	}
	if (e->handle == 0 && e->owner == node) {
		e->handle = b->handle;   /* the owner is back */
		*entry = e;
		return NAME_BOUND;
	}
	if (e->handle == 0) {
		*entry = e;   /* says whose it is */
		*why = "the name belongs to a node that is down";
		return NAME_REFUSED;
	}
	*entry = e;
	return NAME_TAKEN;
}

bool name_registry_withdraw(struct name_registry *r, int node, const Skiff__Harbor__NameBinding *b)
{
	if (b == NULL || !name_registry_valid(b->name))
		return false;
	struct name_entry *e = lookup(r, b->name);
	/* only the node of the service may withdraw its name */
	if (e == NULL || e->handle == 0 || e->handle != b->handle || e->owner != node)
		return false;
	*e = r->v[--r->n];
	return true;
}

void name_registry_node_left(struct name_registry *r, int node)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].handle && r->v[i].owner == node)
			r->v[i].handle = 0;
}
