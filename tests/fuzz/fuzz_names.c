/*
 * fuzz_names.c — the master's global-name rules (harbor/name_registry.c) fed
 * with name registration frames as a hostile node would send them.
 *
 * The input is a sequence of operations, each
 *     op:u8 node:u8 [len:u16le frame[len]]
 * op % 5 picks: 0 NameRegister frame, 1 NodeAnnounce frame (every binding in
 * it), 2 NameWithdraw frame, 3 the node leaves, 4 NameQuery frame.  node is
 * any byte (0 and >255-style ids included: 0 is as bad as it gets).  Frames
 * are decoded by frame_decode exactly as the master does, so the decode path
 * is under test too.
 *
 * After every operation the registry is checked against what its rules say,
 * from the state before the operation:
 *   - a bind to a handle that is 0 or not the node's own is refused, changing
 *     nothing;
 *   - a name reserved for another node is refused, changing nothing; one
 *     reserved for this node goes back to it; a name bound to anybody is
 *     "taken", changing nothing; an unknown name is bound to the registrant;
 *   - a node that leaves holds no bound name afterwards, and lost none;
 *   - a query never resolves a reserved name;
 *   - every entry is a valid name, unique, and bound to its owner or reserved.
 */
#include <string.h>

#include "fuzz_common.h"
#include "frame.h"
#include "fuzz_pb.h"
#include "harbor.pb-c.h"
#include "name_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The entry found by walking every entry, to check lookups against. */
static struct name_entry *raw(struct name_registry *r, const char *name)
{
	size_t pos = 0;
	const struct name_entry *e;
	while ((e = name_registry_next(r, &pos)) != NULL)
		if (strcmp(e->name, name) == 0)
			return (struct name_entry *)e;
	return NULL;
}

static void check_all(struct name_registry *r)
{
	size_t pos = 0, n = 0;
	const struct name_entry *e;
	while ((e = name_registry_next(r, &pos)) != NULL) {
		n++;
		FUZZ_ASSERT(memchr(e->name, '\0', sizeof e->name) != NULL);
		FUZZ_ASSERT(name_registry_valid(e->name));
		FUZZ_ASSERT(e->owner >= 1 && e->owner <= 255);
		FUZZ_ASSERT(e->handle == 0 || (int)(e->handle >> 24) == e->owner);
		/* unique: the lookup by name finds this very entry */
		FUZZ_ASSERT(name_registry_entry(r, e->name) == e);
	}
	FUZZ_ASSERT(n == name_registry_count(r));
}

static void bind_one(struct name_registry *r, int node, const Skiff__Harbor__NameBinding *b)
{
	bool valid = b && name_registry_valid(b->name);
	struct name_entry before = { 0 };
	struct name_entry *old = valid ? raw(r, b->name) : NULL;
	if (old)
		before = *old;
	size_t n = name_registry_count(r);
	const struct name_entry *e;
	const char *why;
	enum name_verdict v = name_registry_bind(r, node, b, &e, &why);
	if (!valid || node < 1 || b->handle == 0 || (int)(b->handle >> 24) != node) {
		FUZZ_ASSERT(v == NAME_REFUSED && why != NULL && name_registry_count(r) == n);
		if (old)
			FUZZ_ASSERT(memcmp(old, &before, sizeof before) == 0);
		return;
	}
	if (old == NULL) {
		/* bound to the registrant (or refused for lack of memory) */
		FUZZ_ASSERT(v == NAME_BOUND ||
		            (v == NAME_REFUSED && name_registry_count(r) == n && strstr(why, "memory")));
		if (v == NAME_BOUND)
			FUZZ_ASSERT(name_registry_count(r) == n + 1 && e && e->handle == b->handle &&
			            e->owner == node && strcmp(e->name, b->name) == 0);
		return;
	}
	FUZZ_ASSERT(name_registry_count(r) == n);
	if (before.handle == 0 && before.owner == node) {
		FUZZ_ASSERT(v == NAME_BOUND && e == old && old->handle == b->handle);
	} else if (before.handle == 0) {
		/* reserved for a node that is down: nobody else may squat it */
		FUZZ_ASSERT(v == NAME_REFUSED && memcmp(old, &before, sizeof before) == 0);
	} else {
		FUZZ_ASSERT(v == NAME_TAKEN && e == old && memcmp(old, &before, sizeof before) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pb_arena *arena = fuzz_arena();
	struct name_registry r = { 0 };
	size_t i = 0;
	while (i + 2 <= size) {
		unsigned op = data[i] % 5;
		int node = data[i + 1];
		i += 2;
		const uint8_t *frame = NULL;
		size_t len = 0;
		if (op != 3) {
			if (i + 2 > size)
				break;
			len = (size_t)data[i] | (size_t)data[i + 1] << 8;
			i += 2;
			if (len > size - i)
				len = size - i;
			frame = data + i;
			i += len;
		}
		switch (op) {
		case 0: {
			Skiff__Harbor__NameRegister *m = (Skiff__Harbor__NameRegister *)frame_decode(
				&skiff__harbor__name_register__descriptor, arena, frame, len);
			if (m)
				bind_one(&r, node, m->binding);
			break;
		}
		case 1: {
			Skiff__Harbor__NodeAnnounce *m = (Skiff__Harbor__NodeAnnounce *)frame_decode(
				&skiff__harbor__node_announce__descriptor, arena, frame, len);
			for (size_t k = 0; m && k < m->n_names; k++)
				bind_one(&r, node, m->names[k]);
			break;
		}
		case 2: {
			Skiff__Harbor__NameWithdraw *m = (Skiff__Harbor__NameWithdraw *)frame_decode(
				&skiff__harbor__name_withdraw__descriptor, arena, frame, len);
			if (m == NULL)
				break;
			const Skiff__Harbor__NameBinding *b = m->binding;
			struct name_entry *old = b && name_registry_valid(b->name) ? raw(&r, b->name) : NULL;
			bool mine = old && old->handle && old->handle == b->handle && old->owner == node;
			size_t n = name_registry_count(&r);
			bool gone = name_registry_withdraw(&r, node, b);
			FUZZ_ASSERT(gone == mine && name_registry_count(&r) == n - (gone ? 1 : 0));
			if (gone)
				FUZZ_ASSERT(raw(&r, b->name) == NULL);
			break;
		}
		case 3: {
			size_t n = name_registry_count(&r);
			name_registry_node_left(&r, node);
			FUZZ_ASSERT(name_registry_count(&r) == n);
			size_t pos = 0;
			const struct name_entry *e;
			while ((e = name_registry_next(&r, &pos)) != NULL)
				FUZZ_ASSERT(e->handle == 0 || e->owner != node);
			break;
		}
		default: {
			Skiff__Harbor__NameQuery *m = (Skiff__Harbor__NameQuery *)frame_decode(
				&skiff__harbor__name_query__descriptor, arena, frame, len);
			if (m == NULL)
				break;
			const struct name_entry *e = name_registry_find(&r, m->name);
			struct name_entry *old = name_registry_valid(m->name) ? raw(&r, m->name) : NULL;
			FUZZ_ASSERT(e == (old && old->handle ? old : NULL));
			break;
		}
		}
		pb_arena_reset(arena);
		check_all(&r);
	}
	name_registry_free(&r);
	return 0;
}
