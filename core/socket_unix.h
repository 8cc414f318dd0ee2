/*
 * socket_unix.h — the Unix-domain half of the socket layer: a listening
 * socket on a path that only the node's user may connect to (the debug
 * console's `console_unix`), and who is at the other end of an accepted one.
 * socket_server.c hands the descriptor to the socket thread like any listen
 * socket; nothing here touches the slot table.
 */
#ifndef SKIFF_SOCKET_UNIX_H
#define SKIFF_SOCKET_UNIX_H

#include <stddef.h>

/* A listening AF_UNIX stream socket bound at `path`, mode 0600, or -1 with
 * errno set (ENAMETOOLONG for a path that does not fit, EEXIST when something
 * other than a socket is at `path`).  A socket file already at `path` (left by
 * an earlier run) is replaced.  The mode is set before listen(), so nobody can
 * connect while the file still has the umask's mode. */
int socket_unix_listen(const char *path, int backlog);

/* "unix uid=U pid=P" of the peer of connected socket fd (or "unix"). */
void socket_unix_peer(int fd, char *buf, size_t sz);

#endif
