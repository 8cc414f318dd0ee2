/*
 * skynet_main.c — the `skiff` program: `skiff CONFIG` runs a node.
 */
#ifdef SKIFF_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "keyfile.h"
#include "skiff_paths.h"
#include "skynet.h"
#include "skynet_config.h"
#include "skynet_env.h"
#include "skynet_imp.h"
#include "skynet_server.h"

static const char *config_file;
static int config_error;

static void bad_key(const char *key, const char *want, const char *got)
{
	fprintf(stderr, "skiff: %s: key '%s' %s (got '%s')\n", config_file, key, want, got);
	config_error = 1;
}

static int optint(const char *key, int opt, int lo, int hi)
{
	const char *str = skynet_getenv(key);
	if (str == NULL) {
		char tmp[20];
		sprintf(tmp, "%d", opt);
		skynet_setenv(key, tmp);
		return opt;
	}
	char *end = NULL;
	errno = 0;
	long v = strtol(str, &end, 0);
	/* A config number may come back as "8.0" from a Lua float. */
	if (*end == '.') { /* strtol always sets end */
		char *e2 = end + 1;
		while (*e2 == '0')
			e2++;
		if (*e2 == '\0')
			end = e2;
	}
	if (errno || end == str || *end != '\0' || v < lo || v > hi) {
		char want[64];
		snprintf(want, sizeof(want), "must be an integer from %d to %d", lo, hi);
		bad_key(key, want, str);
		return opt;
	}
	return (int)v;
}

static int optboolean(const char *key, int opt)
{
	const char *str = skynet_getenv(key);
	if (str == NULL) {
		skynet_setenv(key, opt ? "true" : "false");
		return opt;
	}
	if (strcmp(str, "true") == 0)
		return 1;
	if (strcmp(str, "false") == 0)
		return 0;
	bad_key(key, "must be true or false", str);
	return opt;
}

static const char *optstring(const char *key, const char *opt)
{
	const char *str = skynet_getenv(key);
	if (str == NULL) {
		if (opt) {
			skynet_setenv(key, opt);
			opt = skynet_getenv(key);
		}
		return opt;
	}
	return str;
}

/* Skiff's own files: next to the binary in a build tree, or under the install
 * prefix (found relative to the binary, so an install can be moved). */
struct paths {
	char cpath[PATH_MAX * 3];
	char luaservice[PATH_MAX * 2];
	char lua_path[PATH_MAX * 2];
	char lua_cpath[PATH_MAX];
	char lualoader[PATH_MAX];
};

static void exe_dir(char *out, size_t sz)
{
	ssize_t n = readlink("/proc/self/exe", out, sz - 1);
	if (n <= 0) {
		strcpy(out, ".");
		return;
	}
	out[n] = '\0';
	char *slash = strrchr(out, '/');
	if (slash)
		*slash = '\0';
}

static void default_paths(struct paths *p)
{
	char dir[PATH_MAX];
	exe_dir(dir, sizeof(dir));
	char build[PATH_MAX];
	if (realpath(SKIFF_BUILD_ROOT, build) == NULL)
		build[0] = '\0';
	if (strcmp(dir, build) == 0) {
		const char *b = SKIFF_BUILD_ROOT, *s = SKIFF_SOURCE_ROOT;
		snprintf(p->cpath, sizeof(p->cpath), "%s/service-src/?.so;%s/harbor/?.so;%s/cluster/?.so", b, b, b);
		snprintf(p->luaservice, sizeof(p->luaservice), "%s/services/?.lua", s);
		snprintf(p->lua_path, sizeof(p->lua_path), "%s/lualib/?.lua;%s/lualib/?/init.lua", s, s);
		snprintf(p->lua_cpath, sizeof(p->lua_cpath), "%s/luaclib/?.so", b);
		snprintf(p->lualoader, sizeof(p->lualoader), "%s/lualib/loader.lua", s);
	} else {
		char lib[PATH_MAX], data[PATH_MAX];
		snprintf(lib, sizeof(lib), "%s/../%s/skiff", dir, SKIFF_INSTALL_LIBDIR);
		snprintf(data, sizeof(data), "%s/../%s/skiff", dir, SKIFF_INSTALL_DATADIR);
		char rl[PATH_MAX], rd[PATH_MAX];
		const char *l = realpath(lib, rl) ? rl : lib;
		const char *d = realpath(data, rd) ? rd : data;
		snprintf(p->cpath, sizeof(p->cpath), "%s/cservice/?.so", l);
		snprintf(p->luaservice, sizeof(p->luaservice), "%s/service/?.lua", d);
		snprintf(p->lua_path, sizeof(p->lua_path), "%s/lualib/?.lua;%s/lualib/?/init.lua", d, d);
		snprintf(p->lua_cpath, sizeof(p->lua_cpath), "%s/luaclib/?.so", l);
		snprintf(p->lualoader, sizeof(p->lualoader), "%s/lualib/loader.lua", d);
	}
}

/* A game node holds thousands of client sockets: use the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: skiff CONFIG        run a node with the config file CONFIG\n"
		"       skiff --version     print the version\n"
		"       skiff --genkey FILE write a new random cluster key to FILE (mode 0600)\n");
}

/* Which malloc this binary runs on (meson option `allocator`). */
static const char *allocator_name(char *buf, size_t n)
{
#ifdef SKIFF_JEMALLOC
	const char *version = NULL;
	size_t sz = sizeof(version);
	if (mallctl("version", (void *)&version, &sz, NULL, 0) == 0 && version) {
		snprintf(buf, n, "jemalloc %s", version);
		return buf;
	}
	return "jemalloc";
#else
	(void)buf;
	(void)n;
	return "libc malloc";
#endif
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		usage();
		return 1;
	}
	if (strcmp(argv[1], "--version") == 0) {
		char alloc[64];
		printf("skiff %s (%s)\n", SKIFF_VERSION, allocator_name(alloc, sizeof(alloc)));
		return 0;
	}
	if (strcmp(argv[1], "--genkey") == 0) {
		if (argc != 3) {
			usage();
			return 1;
		}
		char err[256];
		if (keyfile_generate(argv[2], err, sizeof(err)) != 0) {
			fprintf(stderr, "skiff: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage();
		return 0;
	}
	config_file = argv[1];

	skynet_globalinit();
	skynet_env_init();

	/* A peer closing a socket must not kill the node. */
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	struct paths p;
	default_paths(&p);
	const struct config_default defaults[] = {
		{"cpath", p.cpath},
		{"luaservice", p.luaservice},
		{"lua_path", p.lua_path},
		{"lua_cpath", p.lua_cpath},
		{"lualoader", p.lualoader},
		{NULL, NULL},
	};
	char err[1024];
	if (skynet_config_load(config_file, NULL, 0, defaults, err, sizeof(err))) {
		fprintf(stderr, "skiff: %s\n", err);
		skynet_env_exit();
		return 1;
	}

	struct skynet_config config;
	config.config_file = config_file;
	config.thread = optint("thread", 8, 1, 1024);
	config.worker_spin = optint("worker_spin", 50, 0, 10000);
	config.module_path = optstring("cpath", p.cpath);
	/* skynet defaults harbor to 1; a config that names no master is a single
	 * node, so Skiff defaults to 0 there (skynet configs always set it). */
	int multi = skynet_getenv("master") != NULL || skynet_getenv("standalone") != NULL;
	config.harbor = optint("harbor", multi ? 1 : 0, 0, 255);
	config.bootstrap = optstring("bootstrap", "snlua bootstrap");
	config.daemon = optstring("daemon", NULL);
	config.logger = optstring("logger", NULL);
	config.logservice = optstring("logservice", "logger");
	config.profile = optboolean("profile", 1);
	if (config_error) {
		skynet_env_exit();
		return 1;
	}

	int r = skynet_start(&config);
	skynet_globalexit();
	skynet_env_exit();
	return r;
}
