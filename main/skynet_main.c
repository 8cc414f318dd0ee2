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
#include <time.h>
#include <unistd.h>

#include "credential.h"
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
		snprintf(p->cpath, sizeof(p->cpath), "%s/service-src/?.so;%s/harbor/?.so;%s/cluster/?.so", b,
		         b, b);
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
	        "       skiff --genkey FILE write a new random shared cluster key to FILE (mode 0600);\n"
	        "                           every holder of it is trusted with everything\n"
	        "       skiff --genkey cluster DIR\n"
	        "                           make the cluster signing key pair: DIR/cluster.secret\n"
	        "                           (keep it off the nodes) and DIR/cluster.pub (every node)\n"
	        "       skiff --genkey node (--id N | --name NAME) --signer DIR/cluster.secret\n"
	        "                           [--days D] FILE\n"
	        "                           issue a node credential for harbor id N or cluster node\n"
	        "                           NAME into FILE (mode 0600), valid D days (default: no end)\n");
}

/* skiff --genkey node ...: 0 or 1 (the exit code). */
static int genkey_node(int argc, char *argv[])
{
	const char *signer = NULL, *name = NULL, *out = NULL;
	unsigned long id = 0;
	double days = 0;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		if (a == NULL)
			break;
		if (strcmp(a, "--id") == 0 && v) {
			errno = 0;
			id = strtoul(v, &end, 10);
			if (errno || *end || id < 1 || id > 255) {
				fprintf(stderr, "skiff: --id must be a harbor id from 1 to 255 (got '%s')\n",
				        v);
				return 1;
			}
			i++;
		} else if (strcmp(a, "--name") == 0 && v) {
			name = v;
			i++;
		} else if (strcmp(a, "--signer") == 0 && v) {
			signer = v;
			i++;
		} else if (strcmp(a, "--days") == 0 && v) {
			days = strtod(v, &end);
			if (*end || !(days > 0 && days < 36500)) {
				fprintf(stderr,
				        "skiff: --days must be a number of days from 0 to 36500 "
				        "(got '%s')\n",
				        v);
				return 1;
			}
			i++;
		} else if (a[0] != '-' && out == NULL) {
			out = a;
		} else {
			usage();
			return 1;
		}
	}
	if (out == NULL || signer == NULL || (id == 0) == (name == NULL)) {
		fprintf(stderr, "skiff: --genkey node needs exactly one of --id N and --name NAME, "
		                "--signer with the cluster secret key file, and the output FILE\n");
		return 1;
	}
	uint64_t expires = days > 0 ? (uint64_t)time(NULL) + (uint64_t)(days * 86400) : 0;
	char err[320];
	if (cred_generate_node(signer, (uint32_t)id, name, expires, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "skiff: %s\n", err);
		return 1;
	}
	return 0;
}

static int genkey(int argc, char *argv[])
{
	char err[320];
	if (argc == 3) {
		if (keyfile_generate(argv[2], err, sizeof(err)) != 0) {
			fprintf(stderr, "skiff: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (argc == 4 && strcmp(argv[2], "cluster") == 0) {
		if (cred_generate_cluster(argv[3], err, sizeof(err)) != 0) {
			fprintf(stderr, "skiff: %s\n", err);
			return 1;
		}
		fprintf(stderr,
		        "skiff: wrote %s/cluster.secret (the signing key: keep it off the "
		        "nodes) and %s/cluster.pub (config key cluster_pub on every node)\n",
		        argv[3], argv[3]);
		return 0;
	}
	if (argc > 3 && strcmp(argv[2], "node") == 0)
		return genkey_node(argc, argv);
	usage();
	return 1;
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
	if (strcmp(argv[1], "--genkey") == 0)
		return genkey(argc, argv);
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
		{ "cpath", p.cpath },         { "luaservice", p.luaservice }, { "lua_path", p.lua_path },
		{ "lua_cpath", p.lua_cpath }, { "lualoader", p.lualoader },   { NULL, NULL },
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
