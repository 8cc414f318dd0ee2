/*
 * skynet_daemon.h — daemon mode with a pidfile (config key `daemon`).
 */
#ifndef SKYNET_DAEMON_H
#define SKYNET_DAEMON_H

/* 0 on success; -1 after printing why (already running, can't lock, ...). */
int daemon_init(const char *pidfile);
int daemon_exit(const char *pidfile);

#endif
