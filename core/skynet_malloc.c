/*
 * skynet_malloc.c — exported allocator entry points for C services. Skiff has no
 * jemalloc hooks: these forward to the C library.
 */
#include "skynet_malloc.h"

#include <stdlib.h>
#include <string.h>

void *skynet_malloc(size_t sz) { return malloc(sz); }
void *skynet_calloc(size_t nmemb, size_t size) { return calloc(nmemb, size); }
void *skynet_realloc(void *ptr, size_t size) { return realloc(ptr, size); }
void skynet_free(void *ptr) { free(ptr); }

char *skynet_strdup(const char *str)
{
	size_t sz = strlen(str) + 1;
	char *ret = malloc(sz);
	if (ret)
		memcpy(ret, str, sz);
	return ret;
}

void *skynet_lalloc(void *ptr, size_t osize, size_t nsize)
{
	(void)osize;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, nsize);
}

void *skynet_memalign(size_t alignment, size_t size)
{
	void *p = NULL;
	return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

void *skynet_aligned_alloc(size_t alignment, size_t size) { return aligned_alloc(alignment, size); }

int skynet_posix_memalign(void **memptr, size_t alignment, size_t size)
{
	return posix_memalign(memptr, alignment, size);
}
