/*
 * name_registry.c — the master's global names (rules in name_registry.h).
 * A string-keyed hash map (core/skynet_hashmap.h) of individually allocated
 * entries: lookups by name on every NameQuery and registration stay O(1) with
 * thousands of names; a node leaving walks them all, which is rare.
 */
#include "name_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet_hashmap.h"

void name_registry_free(struct name_registry *r)
{
	if (r->map == NULL)
		return;
	size_t pos = 0;
	void *e;
	while (skynet_strmap_next(r->map, &pos, NULL, &e))
		free(e);
	skynet_strmap_free(r->map);
	r->map = NULL;
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
	return r->map ? skynet_strmap_find(r->map, name) : NULL;
}

const struct name_entry *name_registry_entry(const struct name_registry *r, const char *name)
{
	return name_registry_valid(name) ? lookup(r, name) : NULL;
}

const struct name_entry *name_registry_find(const struct name_registry *r, const char *name)
{
	const struct name_entry *e = name_registry_entry(r, name);
	return e && e->handle ? e : NULL;
}

size_t name_registry_count(const struct name_registry *r)
{
	return r->map ? skynet_strmap_count(r->map) : 0;
}

const struct name_entry *name_registry_next(const struct name_registry *r, size_t *pos)
{
	void *e = NULL;
	return r->map && skynet_strmap_next(r->map, pos, NULL, &e) ? e : NULL;
}

static struct name_entry *add(struct name_registry *r, const char *name, uint32_t handle)
{
	if (r->map == NULL && (r->map = skynet_strmap_new()) == NULL)
		return NULL;
	struct name_entry *e = malloc(sizeof(*e));
	if (e == NULL)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->handle = handle;
	e->owner = (int)(handle >> 24);
	if (skynet_strmap_put(r->map, e->name, e) != 0) {
		free(e);
		return NULL;
	}
	return e;
}

enum name_verdict name_registry_bind(struct name_registry *r, int node, const Skiff__Harbor__NameBinding *b,
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
		e->handle = b->handle; /* the owner is back */
		*entry = e;
		return NAME_BOUND;
	}
	if (e->handle == 0) {
		*entry = e; /* says whose it is */
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
	skynet_strmap_del(r->map, b->name, NULL);
	free(e);
	return true;
}

void name_registry_node_left(struct name_registry *r, int node)
{
	size_t pos = 0;
	void *v;
	while (r->map && skynet_strmap_next(r->map, &pos, NULL, &v)) {
		struct name_entry *e = v;
		if (e->handle && e->owner == node)
			e->handle = 0;
	}
}
