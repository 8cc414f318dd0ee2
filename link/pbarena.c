/*
 * pbarena.c — bump allocator for protobuf-c decoding (see pbarena.h).
 *
 * Invariant: base[0..used) holds this cycle's small allocations, each starting
 * on an ALIGN boundary; big[0..nbig) are the blocks this arena still owns.
 */
#include "pbarena.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 16
#define HEAP_DEFAULT 1024
#define HEAP_CAP (64 * 1024) /* never keep more than this between frames */
#define BIG_MIN 1024         /* heap arenas: allocations from here get own blocks */

static void *big_alloc(struct pb_arena *a, size_t size)
{
	if (a->nbig == a->bigcap) {
		size_t ncap = a->bigcap ? a->bigcap * 2 : 4;
		void **nbig = realloc(a->big, ncap * sizeof *nbig);
		if (nbig == NULL)
			return NULL;
		a->big = nbig;
		a->bigcap = ncap;
	}
	void *p = malloc(size ? size : 1);
	if (p != NULL)
		a->big[a->nbig++] = p;
	return p;
}

/* Index of p among the big blocks, or nbig. */
static size_t big_find(const struct pb_arena *a, const void *p)
{
	size_t i = a->nbig;
	while (i > 0 && a->big[i - 1] != p)
		i--;
	return i > 0 ? i - 1 : a->nbig;
}

static void big_forget(struct pb_arena *a, size_t i)
{
	a->big[i] = a->big[--a->nbig];
}

static void *arena_alloc(void *ud, size_t size)
{
	struct pb_arena *a = ud;
	size_t start = (a->used + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);

	if (!a->fixed && size >= BIG_MIN)
		return big_alloc(a, size);
	if (start <= a->cap && size <= a->cap - start) {
		a->used = start + size;
		return a->base + start;
	}
	if (a->fixed)
		return NULL;
	/* Remember the shortfall so the next reset sizes the buffer to fit. */
	a->overflow += size + ALIGN;
	return big_alloc(a, size);
}

static void arena_free(void *ud, void *p)
{
	struct pb_arena *a = ud;
	size_t i;

	/* Small allocations die at reset.  Big ones are freed now: protobuf-c frees
	 * a field it parses twice, and a hostile frame repeating a big field must
	 * not make the arena hold every copy. */
	if (p == NULL || a->fixed)
		return;
	i = big_find(a, p);
	if (i < a->nbig) {
		free(p);
		big_forget(a, i);
	}
}

void pb_arena_init(struct pb_arena *a, void *buf, size_t size)
{
	memset(a, 0, sizeof *a);
	a->allocator.alloc = arena_alloc;
	a->allocator.free = arena_free;
	a->allocator.allocator_data = a;
	if (buf != NULL) {
		a->fixed = 1;
		/* Align the start; the usable size shrinks by what that skips. */
		uintptr_t skip = (ALIGN - ((uintptr_t)buf & (ALIGN - 1))) & (ALIGN - 1);
		a->base = (uint8_t *)buf + (skip < size ? skip : size);
		a->cap = skip < size ? size - skip : 0;
		return;
	}
	size = ((size ? size : HEAP_DEFAULT) + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	a->base = aligned_alloc(ALIGN, size);
	a->cap = a->base ? size : 0;
}

void pb_arena_reset(struct pb_arena *a)
{
	while (a->nbig > 0)
		free(a->big[--a->nbig]);
	if (!a->fixed && a->overflow > 0) {
		size_t want = a->cap ? a->cap : HEAP_DEFAULT;
		while (want < a->used + a->overflow && want < HEAP_CAP)
			want *= 2;
		if (want > a->cap) {
			uint8_t *nbase = aligned_alloc(ALIGN, want);
			if (nbase != NULL) {
				free(a->base);
				a->base = nbase;
				a->cap = want;
			}
		}
	}
	a->used = 0;
	a->overflow = 0;
}

void pb_arena_finish(struct pb_arena *a)
{
	pb_arena_reset(a);
	free(a->big);
	if (!a->fixed)
		free(a->base);
	memset(a, 0, sizeof *a);
}

void *pb_arena_steal(struct pb_arena *a, void *p)
{
	size_t i = p ? big_find(a, p) : a->nbig;
	if (i == a->nbig)
		return NULL;
	big_forget(a, i);
	return p;
}
