/*
 * skynet_malloc.c — exported allocator entry points for C services. Skiff has no
 * jemalloc hooks: these forward to the C library.
 *
 * The Lua allocator (skynet_lalloc) is the hottest of them: a Lua state is
 * thousands of small blocks, and Lua always passes the size of the block it
 * frees. When the process's malloc is jemalloc (linked into the executable),
 * frees go through its sized sdallocx, which skips looking the size up; the
 * weak reference stays NULL under any other malloc (sanitizer builds).
 */
#include "skynet_malloc.h"

#include <stdlib.h>
#include <string.h>

void *skynet_malloc(size_t sz)
{
	return malloc(sz);
}
void *skynet_calloc(size_t nmemb, size_t size)
{
	return calloc(nmemb, size);
}
void *skynet_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size);
}
void skynet_free(void *ptr)
{
	free(ptr);
}

char *skynet_strdup(const char *str)
{
	size_t sz = strlen(str) + 1;
	char *ret = malloc(sz);
	if (ret)
		memcpy(ret, str, sz);
	return ret;
}

/* jemalloc's sized free; declared here, as jemalloc's header is not ours to include in core */
extern void sdallocx(void *ptr, size_t size, int flags) __attribute__((weak));

void *skynet_lalloc(void *ptr, size_t osize, size_t nsize)
{
	if (nsize == 0) {
		if (ptr != NULL) {
			if (sdallocx)
				sdallocx(ptr, osize, 0);
			else
				free(ptr);
		}
		return NULL;
	}
	if (ptr == NULL)
		return malloc(nsize); /* osize is a type tag here, not a size */
	return realloc(ptr, nsize);
}

void *skynet_memalign(size_t alignment, size_t size)
{
	void *p = NULL;
	return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

void *skynet_aligned_alloc(size_t alignment, size_t size)
{
	return aligned_alloc(alignment, size);
}

int skynet_posix_memalign(void **memptr, size_t alignment, size_t size)
{
	return posix_memalign(memptr, alignment, size);
}
