/*
 * skynet_handle.c — handle allocation and the local name registry.
 *
 * Slots: an open-addressed array whose size is a power of two, indexed by
 * (handle & (size-1)). Because ids are handed out in increasing order and the
 * array doubles when full, a live handle always sits in its own slot; a stale
 * handle (retired, its id maybe reused) is detected by comparing the stored
 * context's handle with the requested one.
 *
 * Names: a sorted array of (name, handle), binary searched. Names are unique
 * (first binding wins) and go away only when their handle is retired.
 *
 * One readers/writer lock guards both. Context references are released outside it.
 */
#include "skynet_handle.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"
#include "skynet_server.h"

#define DEFAULT_SLOT_SIZE 4
#define MAX_SLOT_SIZE 0x40000000

struct handle_name {
	char *name;
	uint32_t handle;
};

struct handle_storage {
	pthread_rwlock_t lock;

	uint32_t harbor;
	uint32_t handle_index;
	int slot_size;
	struct skynet_context **slot;

	int name_cap;
	int name_count;
	struct handle_name *name;
};

static struct handle_storage *H = NULL;

uint32_t skynet_handle_register(struct skynet_context *ctx)
{
	struct handle_storage *s = H;

	pthread_rwlock_wrlock(&s->lock);

	for (;;) {
		uint32_t handle = s->handle_index;
		for (int i = 0; i < s->slot_size; i++, handle++) {
			if (handle > HANDLE_MASK)
				handle = 1; /* 0 is reserved for the system */
			int hash = handle & (s->slot_size - 1);
			if (s->slot[hash] == NULL) {
				s->slot[hash] = ctx;
				s->handle_index = handle + 1;
				pthread_rwlock_unlock(&s->lock);
				return handle | s->harbor;
			}
		}
		assert((s->slot_size * 2 - 1) <= HANDLE_MASK);
		struct skynet_context **new_slot = skynet_calloc(s->slot_size * 2, sizeof(*new_slot));
		for (int i = 0; i < s->slot_size; i++) {
			if (s->slot[i]) {
				int hash = skynet_context_handle(s->slot[i]) & (s->slot_size * 2 - 1);
				assert(new_slot[hash] == NULL);
				new_slot[hash] = s->slot[i];
			}
		}
		skynet_free(s->slot);
		s->slot = new_slot;
		s->slot_size *= 2;
	}
}

int skynet_handle_retire(uint32_t handle)
{
	int ret = 0;
	struct handle_storage *s = H;

	pthread_rwlock_wrlock(&s->lock);

	uint32_t hash = handle & (s->slot_size - 1);
	struct skynet_context *ctx = s->slot[hash];

	if (ctx != NULL && skynet_context_handle(ctx) == handle) {
		s->slot[hash] = NULL;
		ret = 1;
		int j = 0, n = s->name_count;
		for (int i = 0; i < n; ++i) {
			if (s->name[i].handle == handle) {
				skynet_free(s->name[i].name);
				continue;
			} else if (i != j) {
				s->name[j] = s->name[i];
			}
			++j;
		}
		s->name_count = j;
	} else {
		ctx = NULL;
	}

	pthread_rwlock_unlock(&s->lock);

	if (ctx) {
		/* release ctx may call skynet_handle_* , so unlock first */
		skynet_context_release(ctx);
	}

	return ret;
}

void skynet_handle_retireall(void)
{
	struct handle_storage *s = H;
	/* The logger outlives every other service so the last lines (why the node
	 * is stopping) reach the log; skynet_start retires it after the threads. */
	uint32_t logger = skynet_handle_findname("logger");
	for (;;) {
		int n = 0;
		for (int i = 0; i < s->slot_size; i++) {
			pthread_rwlock_rdlock(&s->lock);
			struct skynet_context *ctx = s->slot[i];
			uint32_t handle = 0;
			if (ctx) {
				handle = skynet_context_handle(ctx);
				if (handle == logger)
					handle = 0;
				else
					++n;
			}
			pthread_rwlock_unlock(&s->lock);
			if (handle != 0)
				skynet_handle_retire(handle);
		}
		if (n == 0)
			return;
	}
}

void skynet_handle_foreach(void (*fn)(struct skynet_context *, void *), void *ud)
{
	struct handle_storage *s = H;
	pthread_rwlock_rdlock(&s->lock);
	for (int i = 0; i < s->slot_size; i++) {
		if (s->slot[i])
			fn(s->slot[i], ud);
	}
	pthread_rwlock_unlock(&s->lock);
}

struct skynet_context *skynet_handle_grab(uint32_t handle)
{
	struct handle_storage *s = H;
	struct skynet_context *result = NULL;

	pthread_rwlock_rdlock(&s->lock);

	uint32_t hash = handle & (s->slot_size - 1);
	struct skynet_context *ctx = s->slot[hash];
	if (ctx && skynet_context_handle(ctx) == handle) {
		result = ctx;
		skynet_context_grab(result);
	}

	pthread_rwlock_unlock(&s->lock);

	return result;
}

/* Binary search; returns the index of name, or -(insertion point)-1. */
static int name_search(struct handle_storage *s, const char *name)
{
	int begin = 0;
	int end = s->name_count - 1;
	while (begin <= end) {
		int mid = (begin + end) / 2;
		int c = strcmp(s->name[mid].name, name);
		if (c == 0)
			return mid;
		if (c < 0)
			begin = mid + 1;
		else
			end = mid - 1;
	}
	return -begin - 1;
}

uint32_t skynet_handle_findname(const char *name)
{
	struct handle_storage *s = H;
	uint32_t handle = 0;

	pthread_rwlock_rdlock(&s->lock);
	int i = name_search(s, name);
	if (i >= 0)
		handle = s->name[i].handle;
	pthread_rwlock_unlock(&s->lock);

	return handle;
}

static void name_insert_at(struct handle_storage *s, char *name, uint32_t handle, int before)
{
	if (s->name_count >= s->name_cap) {
		s->name_cap *= 2;
		assert(s->name_cap <= MAX_SLOT_SIZE);
		s->name = skynet_realloc(s->name, s->name_cap * sizeof(struct handle_name));
	}
	memmove(&s->name[before + 1], &s->name[before],
	        (s->name_count - before) * sizeof(struct handle_name));
	s->name[before].name = name;
	s->name[before].handle = handle;
	s->name_count++;
}

const char *skynet_handle_namehandle(uint32_t handle, const char *name)
{
	struct handle_storage *s = H;
	const char *ret = NULL;

	pthread_rwlock_wrlock(&s->lock);
	int i = name_search(s, name);
	if (i < 0) {
		char *copy = skynet_strdup(name);
		name_insert_at(s, copy, handle, -i - 1);
		ret = copy;
	}
	pthread_rwlock_unlock(&s->lock);

	return ret;
}

void skynet_handle_init(int harbor)
{
	assert(H == NULL);
	struct handle_storage *s = skynet_malloc(sizeof(*H));
	s->slot_size = DEFAULT_SLOT_SIZE;
	s->slot = skynet_calloc(s->slot_size, sizeof(struct skynet_context *));

	pthread_rwlock_init(&s->lock, NULL);
	/* Reserve 0 for the system. */
	s->harbor = (uint32_t)(harbor & 0xff) << HANDLE_REMOTE_SHIFT;
	s->handle_index = 1;
	s->name_cap = 2;
	s->name_count = 0;
	s->name = skynet_malloc(s->name_cap * sizeof(struct handle_name));

	H = s;
}

void skynet_handle_exit(void)
{
	struct handle_storage *s = H;
	if (s == NULL)
		return;
	for (int i = 0; i < s->name_count; i++)
		skynet_free(s->name[i].name);
	skynet_free(s->name);
	skynet_free(s->slot);
	pthread_rwlock_destroy(&s->lock);
	skynet_free(s);
	H = NULL;
}
