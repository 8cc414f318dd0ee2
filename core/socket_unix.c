/*
 * socket_unix.c — listening Unix-domain sockets (see socket_unix.h).
 *
 * Invariant: a socket this file returns has mode 0600 on its path before it
 * listens, so a peer that connects passed the file's permission check (on
 * Linux, connecting needs write permission on the socket file): the owner's
 * uid or root.  Runs in the caller's thread, like the TCP listen's bind: a
 * few local file system calls, no network wait.
 */
#include "socket_unix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int socket_unix_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, len + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST; /* never remove a file that is not ours to remove */
			return -1;
		}
		if (unlink(path) != 0)
			return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto failed;
	if (chmod(path, 0600) != 0 || listen(fd, backlog) != 0) {
		int e = errno;
		unlink(path);
		errno = e;
		goto failed;
	}
	return fd;
failed : {
	int e = errno;
	close(fd);
	errno = e;
}
	return -1;
}

void socket_unix_peer(int fd, char *buf, size_t sz)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred))
		snprintf(buf, sz, "unix uid=%u pid=%d", (unsigned)cred.uid, (int)cred.pid);
	else
		snprintf(buf, sz, "unix");
}
