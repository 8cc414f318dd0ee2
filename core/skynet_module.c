/*
 * skynet_module.c — load C service modules with dlopen and cache them by name.
 *
 * Lookup: each ';'-separated template of `cpath` has its '?' replaced by the
 * module name; the first one dlopen accepts wins. Entry points are <name>_init
 * (required), _create, _release and _signal, where <name> is the part after the
 * last '.' of the module name. At most MAX_MODULE_TYPE modules are loaded; they
 * stay loaded for the life of the process.
 */
#include "skynet_module.h"

#include <assert.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skynet.h"

#define MAX_MODULE_TYPE 32

struct modules {
	int count;
	pthread_mutex_t lock;
	char *path;
	struct skynet_module m[MAX_MODULE_TYPE];
};

static struct modules *M = NULL;

static void *try_open(struct modules *m, const char *name)
{
	const char *path = m->path;
	size_t path_size = strlen(path);
	size_t name_size = strlen(name);

	size_t sz = path_size + name_size;
	char *tmp = skynet_malloc(sz + 1);
	/* Remember every failure: one message naming each candidate helps users. */
	char *errs = NULL;
	size_t errs_len = 0;
	void *dl = NULL;
	do {
		memset(tmp, 0, sz + 1);
		while (*path == ';')
			path++;
		if (*path == '\0')
			break;
		const char *l = strchr(path, ';');
		if (l == NULL)
			l = path + strlen(path);
		size_t len = l - path;
		size_t i;
		for (i = 0; i < len && path[i] != '?'; i++)
			tmp[i] = path[i];
		// NOLINTNEXTLINE(bugprone-not-null-terminated-result): tmp is zeroed above
		memcpy(tmp + i, name, name_size);
		if (path[i] == '?') {
			memcpy(tmp + i + name_size, path + i + 1, len - i - 1);
		} else {
			fprintf(stderr, "Invalid C service path\n");
			exit(1);
		}
		dl = dlopen(tmp, RTLD_NOW | RTLD_GLOBAL);
		if (dl == NULL) {
			const char *e = dlerror();
			size_t el = strlen(e);
			errs = skynet_realloc(errs, errs_len + el + 2);
			memcpy(errs + errs_len, e, el);
			errs[errs_len + el] = '\n';
			errs[errs_len + el + 1] = '\0';
			errs_len += el + 1;
		}
		path = l;
	} while (dl == NULL);

	if (dl == NULL) {
		if (errs_len > 0)
			errs[errs_len - 1] = '\0'; /* drop the last newline */
		skynet_error(NULL, "try open %s failed : %s", name, errs ? errs : "no path");
	}
	skynet_free(errs);
	skynet_free(tmp);

	return dl;
}

static struct skynet_module *query_cached(const char *name)
{
	for (int i = 0; i < M->count; i++) {
		if (strcmp(M->m[i].name, name) == 0)
			return &M->m[i];
	}
	return NULL;
}

static void *get_api(struct skynet_module *mod, const char *api_name)
{
	size_t name_size = strlen(mod->name);
	size_t api_size = strlen(api_name);
	char tmp[name_size + api_size + 1];
	memcpy(tmp, mod->name, name_size);
	memcpy(tmp + name_size, api_name, api_size + 1);
	char *ptr = strrchr(tmp, '.');
	if (ptr == NULL)
		ptr = tmp;
	else
		ptr = ptr + 1;
	return dlsym(mod->module, ptr);
}

static int open_sym(struct skynet_module *mod)
{
	/* dlsym returns void*; converting to a function pointer is POSIX-blessed. */
	*(void **)&mod->create = get_api(mod, "_create");
	*(void **)&mod->init = get_api(mod, "_init");
	*(void **)&mod->release = get_api(mod, "_release");
	*(void **)&mod->signal = get_api(mod, "_signal");

	return mod->init == NULL;
}

struct skynet_module *skynet_module_query(const char *name)
{
	pthread_mutex_lock(&M->lock);

	struct skynet_module *result = query_cached(name);
	if (result == NULL && M->count < MAX_MODULE_TYPE) {
		int index = M->count;
		void *dl = try_open(M, name);
		if (dl) {
			M->m[index].name = name;
			M->m[index].module = dl;

			if (open_sym(&M->m[index]) == 0) {
				M->m[index].name = skynet_strdup(name);
				M->count++;
				result = &M->m[index];
			} else {
				skynet_error(NULL, "module %s has no %s_init", name, name);
			}
		}
	} else if (result == NULL) {
		skynet_error(NULL, "too many C service modules (max %d), can't load %s", MAX_MODULE_TYPE,
		             name);
	}

	pthread_mutex_unlock(&M->lock);

	return result;
}

int skynet_module_count(void)
{
	pthread_mutex_lock(&M->lock);
	int n = M->count;
	pthread_mutex_unlock(&M->lock);
	return n;
}

struct skynet_module *skynet_module_get(int index)
{
	/* Entries below count never move or change once published. */
	return (index >= 0 && index < skynet_module_count()) ? &M->m[index] : NULL;
}

void *skynet_module_instance_create(struct skynet_module *m)
{
	if (m->create)
		return m->create();
	return (void *)(intptr_t)(~0);
}

int skynet_module_instance_init(struct skynet_module *m, void *inst, struct skynet_context *ctx,
                                const char *parm)
{
	return m->init(inst, ctx, parm);
}

void skynet_module_instance_release(struct skynet_module *m, void *inst)
{
	if (m->release)
		m->release(inst);
}

void skynet_module_instance_signal(struct skynet_module *m, void *inst, int signal)
{
	if (m->signal)
		m->signal(inst, signal);
}

int skynet_module_init(const char *path)
{
	/* Validate up front so a bad config fails at start, not at first launch. */
	const char *p = path;
	while (*p) {
		const char *l = strchr(p, ';');
		size_t len = l ? (size_t)(l - p) : strlen(p);
		if (len > 0 && memchr(p, '?', len) == NULL) {
			fprintf(stderr,
			        "skiff: Invalid C service path: template '%.*s' in cpath has no '?'\n",
			        (int)len, p);
			return -1;
		}
		p += len;
		if (*p == ';')
			p++;
	}
	struct modules *m = skynet_calloc(1, sizeof(*m));
	m->count = 0;
	m->path = skynet_strdup(path);
	pthread_mutex_init(&m->lock, NULL);
	M = m;
	return 0;
}

void skynet_module_exit(void)
{
	if (M == NULL)
		return;
	/* Modules stay mapped: a service's code may still be referenced by
	 * function pointers (e.g. atexit handlers) until the process ends. */
	for (int i = 0; i < M->count; i++)
		skynet_free((void *)M->m[i].name);
	skynet_free(M->path);
	pthread_mutex_destroy(&M->lock);
	skynet_free(M);
	M = NULL;
}
