/*
 * skynet_imp.h — the resolved node configuration handed from main to start.
 */
#ifndef SKYNET_IMP_H
#define SKYNET_IMP_H

struct skynet_config {
	int thread;
	int worker_spin; /* µs an idle worker polls for work before sleeping */
	int harbor;
	int profile;
	const char *daemon;
	const char *module_path;
	const char *bootstrap;
	const char *logger;
	const char *logservice;
	const char *config_file; /* for error messages */
};

/* Run the node until the last service exits; returns the process exit code. */
int skynet_start(struct skynet_config *config);

#endif
