/*
 * skynet_malloc.h — the allocator names C services use. Skiff uses the C library
 * allocator (no jemalloc hooks), so these are thin, exported wrappers.
 */
#ifndef SKYNET_MALLOC_H
#define SKYNET_MALLOC_H

#include <stddef.h>

void *skynet_malloc(size_t sz);
void *skynet_calloc(size_t nmemb, size_t size);
void *skynet_realloc(void *ptr, size_t size);
void skynet_free(void *ptr);
char *skynet_strdup(const char *str);
void *skynet_lalloc(void *ptr, size_t osize, size_t nsize); /* Lua-style allocator */
void *skynet_memalign(size_t alignment, size_t size);
void *skynet_aligned_alloc(size_t alignment, size_t size);
int skynet_posix_memalign(void **memptr, size_t alignment, size_t size);

#endif
