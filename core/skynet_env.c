/*
 * skynet_env.c — write-once string environment.
 *
 * Because an entry is never changed or removed once set, getenv can hand out a
 * pointer into the table without copying: it stays valid until exit. A small
 * open hash table under a mutex; reads are rare (service start-up, GETENV).
 */
#include "skynet_env.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"

struct env_entry {
	char *key;
	char *value;
	struct env_entry *next;
};

struct skynet_env {
	pthread_mutex_t lock;
	size_t nbucket;
	size_t count;
	struct env_entry **bucket;
};

static struct skynet_env *E = NULL;

static size_t hash_str(const char *s)
{
	size_t h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static struct env_entry *find(const char *key)
{
	struct env_entry *e = E->bucket[hash_str(key) & (E->nbucket - 1)];
	while (e && strcmp(e->key, key) != 0)
		e = e->next;
	return e;
}

const char *skynet_getenv(const char *key)
{
	pthread_mutex_lock(&E->lock);
	struct env_entry *e = find(key);
	const char *v = e ? e->value : NULL;
	pthread_mutex_unlock(&E->lock);
	return v;
}

static void grow(void)
{
	size_t n = E->nbucket * 2;
	struct env_entry **b = skynet_calloc(n, sizeof(*b));
	for (size_t i = 0; i < E->nbucket; i++) {
		struct env_entry *e = E->bucket[i];
		while (e) {
			struct env_entry *next = e->next;
			size_t h = hash_str(e->key) & (n - 1);
			e->next = b[h];
			b[h] = e;
			e = next;
		}
	}
	skynet_free(E->bucket);
	E->bucket = b;
	E->nbucket = n;
}

int skynet_setenv(const char *key, const char *value)
{
	int ret = 0;
	pthread_mutex_lock(&E->lock);
	if (find(key)) {
		ret = -1;
	} else {
		if (E->count >= E->nbucket)
			grow();
		struct env_entry *e = skynet_malloc(sizeof(*e));
		e->key = skynet_strdup(key);
		e->value = skynet_strdup(value);
		size_t h = hash_str(key) & (E->nbucket - 1);
		e->next = E->bucket[h];
		E->bucket[h] = e;
		E->count++;
	}
	pthread_mutex_unlock(&E->lock);
	return ret;
}

void skynet_env_init(void)
{
	E = skynet_calloc(1, sizeof(*E));
	pthread_mutex_init(&E->lock, NULL);
	E->nbucket = 64;
	E->bucket = skynet_calloc(E->nbucket, sizeof(*E->bucket));
}

void skynet_env_exit(void)
{
	if (E == NULL)
		return;
	for (size_t i = 0; i < E->nbucket; i++) {
		struct env_entry *e = E->bucket[i];
		while (e) {
			struct env_entry *next = e->next;
			skynet_free(e->key);
			skynet_free(e->value);
			skynet_free(e);
			e = next;
		}
	}
	skynet_free(E->bucket);
	pthread_mutex_destroy(&E->lock);
	skynet_free(E);
	E = NULL;
}
