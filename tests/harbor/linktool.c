/*
 * linktool.c — the peer tools' shared pieces (see linktool.h).
 */
#include "linktool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
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

long tool_read(int fd, uint8_t *buf, size_t cap, int poll_ms, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, poll_ms);
	if (tool_now_ms() > deadline) {
		printf("TIMEOUT\n");
		exit(1);
	}
	if (r <= 0)
		return 0;
	ssize_t n = read(fd, buf, cap);
	return n > 0 ? (long)n : -1;
}

const char *tool_link_state(const struct link *l, int established, char *buf, size_t cap)
{
	if (link_state(l) == LINK_CLOSED) {
		snprintf(buf, cap, "closed:%s", link_reason(l));
		return buf;
	}
	return established ? "established" : "handshake";
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
