/*
 * skynet_daemon.c — detach from the terminal and hold a locked pidfile.
 */
#include "skynet_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

static int check_pid(const char *pidfile)
{
	int pid = 0;
	FILE *f = fopen(pidfile, "r");
	if (f == NULL)
		return 0;
	int n = fscanf(f, "%d", &pid);
	fclose(f);

	if (n != 1 || pid == 0 || pid == getpid())
		return 0;

	if (kill(pid, 0) && errno == ESRCH)
		return 0;

	return pid;
}

static int write_pid(const char *pidfile)
{
	FILE *f;
	int pid = 0;
	int fd = open(pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		fprintf(stderr, "skiff: can't create pidfile [%s]: %s\n", pidfile, strerror(errno));
		return 0;
	}
	f = fdopen(fd, "w+");
	if (f == NULL) {
		fprintf(stderr, "skiff: can't open pidfile [%s]: %s\n", pidfile, strerror(errno));
		close(fd);
		return 0;
	}

	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int n = fscanf(f, "%d", &pid);
		fclose(f);
		if (n != 1)
			fprintf(stderr, "skiff: can't lock and read pidfile %s\n", pidfile);
		else
			fprintf(stderr, "skiff: can't lock pidfile %s, lock is held by pid %d\n", pidfile,
			        pid);
		return 0;
	}

	pid = getpid();
	if (!fprintf(f, "%d\n", pid)) {
		fprintf(stderr, "skiff: can't write pid to %s\n", pidfile);
		fclose(f);
		return 0;
	}
	fflush(f);
	/* The FILE (and its fd with the lock) stays open for the life of the process. */
	return pid;
}

static int redirect_fds(void)
{
	int nfd = open("/dev/null", O_RDWR);
	if (nfd == -1) {
		perror("skiff: unable to open /dev/null");
		return -1;
	}
	if (dup2(nfd, 0) < 0 || dup2(nfd, 1) < 0 || dup2(nfd, 2) < 0) {
		perror("skiff: unable to redirect std fds");
		close(nfd);
		return -1;
	}
	close(nfd);
	return 0;
}

int daemon_init(const char *pidfile)
{
	int pid = check_pid(pidfile);

	if (pid) {
		fprintf(stderr, "Skiff is already running, pid = %d.\n", pid);
		return -1;
	}

	if (daemon(1, 1)) {
		fprintf(stderr, "skiff: can't daemonize: %s\n", strerror(errno));
		return -1;
	}

	pid = write_pid(pidfile);
	if (pid == 0)
		return -1;

	if (redirect_fds())
		return -1;

	return 0;
}

int daemon_exit(const char *pidfile)
{
	return unlink(pidfile);
}
