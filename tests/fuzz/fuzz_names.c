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

static struct name_entry *raw(struct name_registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].name, name) == 0)
			return &r->v[i];
	return NULL;
}

static void check_all(const struct name_registry *r)
{
	FUZZ_ASSERT(r->n <= r->cap);
	for (size_t i = 0; i < r->n; i++) {
		const struct name_entry *e = &r->v[i];
		FUZZ_ASSERT(memchr(e->name, '\0', sizeof e->name) != NULL);
		FUZZ_ASSERT(name_registry_valid(e->name));
		FUZZ_ASSERT(e->owner >= 1 && e->owner <= 255);
		FUZZ_ASSERT(e->handle == 0 || (int)(e->handle >> 24) == e->owner);
		for (size_t j = i + 1; j < r->n; j++)
			FUZZ_ASSERT(strcmp(e->name, r->v[j].name) != 0);
	}
}

static void bind_one(struct name_registry *r, int node, const Skiff__Harbor__NameBinding *b)
{
	bool valid = b && name_registry_valid(b->name);
	struct name_entry before = {0};
	struct name_entry *old = valid ? raw(r, b->name) : NULL;
	if (old)
		before = *old;
	size_t n = r->n;
	const struct name_entry *e;
	const char *why;
	enum name_verdict v = name_registry_bind(r, node, b, &e, &why);
	if (!valid || node < 1 || b->handle == 0 || (int)(b->handle >> 24) != node) {
		FUZZ_ASSERT(v == NAME_REFUSED && why != NULL && r->n == n);
		if (old)
			FUZZ_ASSERT(memcmp(old, &before, sizeof before) == 0);
		return;
	}
	if (old == NULL) {
		/* bound to the registrant (or refused for lack of memory) */
		FUZZ_ASSERT(v == NAME_BOUND || (v == NAME_REFUSED && r->n == n && strstr(why, "memory")));
		if (v == NAME_BOUND)
			FUZZ_ASSERT(r->n == n + 1 && e && e->handle == b->handle && e->owner == node &&
			            strcmp(e->name, b->name) == 0);
		return;
	}
	FUZZ_ASSERT(r->n == n);
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
	struct name_registry r = {0};
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
			size_t n = r.n;
			bool gone = name_registry_withdraw(&r, node, b);
			FUZZ_ASSERT(gone == mine && r.n == n - (gone ? 1 : 0));
			if (gone)
				FUZZ_ASSERT(raw(&r, b->name) == NULL);
			break;
		}
		case 3: {
			size_t n = r.n;
			name_registry_node_left(&r, node);
			FUZZ_ASSERT(r.n == n);
			for (size_t k = 0; k < r.n; k++)
				FUZZ_ASSERT(r.v[k].handle == 0 || r.v[k].owner != node);
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
