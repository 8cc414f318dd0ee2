/*
 * tcp_rtt — the floor for harbor benchmarks: round trips of SIZE bytes over a
 * loopback TCP connection between two blocking threads (no crypto, no runtime).
 * usage: tcp_rtt COUNT SIZE   prints "TCP RTT <size> <rtt/s> mean <us> us"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int count;
static size_t size;

static void full(int fd, char *buf, size_t n, int wr)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = wr ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
		if (r <= 0)
			exit(1);
		done += (size_t)r;
	}
}

static void *echo(void *arg)
{
	int fd = accept(*(int *)arg, NULL, NULL);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	char *buf = malloc(size);
	for (int i = 0; i < count; i++) {
		full(fd, buf, size, 0);
		full(fd, buf, size, 1);
	}
	close(fd);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	count = argc > 1 ? atoi(argv[1]) : 100000;
	size = argc > 2 ? (size_t)atoi(argv[2]) : 64;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sa;
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&sa, &len))
		return 1;
	pthread_t t;
	pthread_create(&t, NULL, echo, &ls);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
		return 1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	char *buf = calloc(1, size);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < count; i++) {
		full(fd, buf, size, 1);
		full(fd, buf, size, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("TCP RTT %zu %.0f rtt/s mean %.2f us\n", size, count / s, s / count * 1e6);
	pthread_join(t, NULL);
	free(buf);
	return 0;
}
