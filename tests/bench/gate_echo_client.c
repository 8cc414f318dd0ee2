/*
 * gate_echo_client.c — load generator for the gate echo benchmark.
 *
 * usage: gate_echo_client PORT [CLIENTS=100] [SECONDS=5] [SIZE=64]
 * Each client keeps one 2-byte-length packet in flight against 127.0.0.1:PORT:
 * send, wait for the whole echo, check it, record the round trip, repeat.
 * Prints packets/s and p50/p99 latency; exits 1 on any error or bad echo.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
	int fd;
	size_t got;
	uint64_t sent_at;
	uint8_t in[65536 + 2];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint8_t packet[65536 + 2];
static size_t packet_len;

static int send_packet(struct client *c)
{
	c->got = 0;
	c->sent_at = now_ns();
	/* small packets: the kernel takes them whole on a fresh round trip */
	ssize_t n = write(c->fd, packet, packet_len);
	return n == (ssize_t)packet_len ? 0 : -1;
}

int main(int argc, char *argv[])
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [CLIENTS] [SECONDS] [SIZE]\n", argv[0]);
		return 2;
	}
	int port = atoi(argv[1]);
	int nclient = argc > 2 ? atoi(argv[2]) : 100;
	double seconds = argc > 3 ? atof(argv[3]) : 5.0;
	size_t size = argc > 4 ? (size_t)atoi(argv[4]) : 64;
	if (size > 65535 || nclient <= 0)
		return 2;
	packet[0] = (uint8_t)(size >> 8);
	packet[1] = (uint8_t)size;
	for (size_t i = 0; i < size; i++)
		packet[2 + i] = (uint8_t)(i * 7 + 3);
	packet_len = size + 2;

	int ep = epoll_create1(0);
	struct client *cl = calloc((size_t)nclient, sizeof(*cl));
	size_t cap = 1 << 20, nlat = 0;
	uint64_t *lat = malloc(cap * sizeof(*lat));
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_port = htons((uint16_t)port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int i = 0; i < nclient; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			perror("connect"); // NOLINT(clang-analyzer-unix.Malloc): the process exits
			return 1;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		cl[i].fd = fd;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cl[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	uint64_t start = now_ns();
	uint64_t end = start + (uint64_t)(seconds * 1e9);
	for (int i = 0; i < nclient; i++)
		if (send_packet(&cl[i]) != 0)
			return 1;
	uint64_t count = 0;
	struct epoll_event evs[256];
	while (now_ns() < end) {
		int n = epoll_wait(ep, evs, 256, 100);
		for (int k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;
			ssize_t r = read(c->fd, c->in + c->got, packet_len - c->got);
			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				fprintf(stderr, "read: %s\n", r ? strerror(errno) : "closed");
				return 1;
			}
			c->got += (size_t)r;
			if (c->got < packet_len)
				continue;
			if (memcmp(c->in, packet, packet_len) != 0) {
				fprintf(stderr, "bad echo\n");
				return 1;
			}
			if (nlat == cap) {
				cap *= 2;
				uint64_t *grown = realloc(lat, cap * sizeof(*lat));
				if (grown == NULL) {
					fprintf(stderr, "out of memory\n");
					return 1;
				}
				lat = grown;
			}
			lat[nlat++] = now_ns() - c->sent_at;
			count++;
			if (send_packet(c) != 0)
				return 1;
		}
	}
	double dt = (double)(now_ns() - start) / 1e9;
	if (nlat == 0) {
		fprintf(stderr, "no packet came back\n");
		return 1;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("BENCH gate echo (C client): %d clients, %zu-byte packets: %.0f packets/s, "
	       "p50 %.3f ms, p99 %.3f ms\n",
	       nclient, size, (double)count / dt, (double)lat[nlat / 2] / 1e6,
	       (double)lat[(size_t)((double)nlat * 0.99)] / 1e6);
	for (int i = 0; i < nclient; i++)
		close(cl[i].fd);
	free(cl);
	free(lat);
	close(ep);
	return 0;
}
