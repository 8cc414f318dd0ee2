/*
 * linktool.c — the peer tools' shared pieces (see linktool.h).
 */
#include "linktool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t tool_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int tool_dial(const char *host, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "connect %s:%d: ", host, port);
		perror(NULL);
		exit(2);
	}
	return fd;
}

int tool_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void tool_note_established(void *ud, struct link *l)
{
	(void)l;
	*(int *)ud = 1;
}

void tool_ignore_record(void *ud, struct link *l, unsigned type, uint8_t *data, size_t len)
{
	(void)ud;
	(void)l;
	(void)type;
	(void)data;
	(void)len;
}
