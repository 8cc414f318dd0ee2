/*
 * http_load.c — load generator for the HTTP and WebSocket benchmarks
 * (http.bench.py): CONNS connections to 127.0.0.1:PORT, each keeping one
 * request in flight for SECONDS, on one epoll thread.
 *
 *   http_load http PORT CONNS SECONDS    GET /hello on kept-alive connections;
 *                                        an answer is whole when its
 *                                        Content-Length bytes follow the head
 *   http_load ws PORT CONNS SECONDS      a WebSocket handshake, then a 64-byte
 *                                        masked text frame, waiting for its
 *                                        echo (an unmasked frame, 66 bytes)
 *   http_load hold PORT CONNS SECONDS    CONNS WebSocket handshakes, then
 *                                        "HELD <n>" and the connections stay
 *                                        open, idle, for SECONDS
 * Prints "RESULT <count> in <seconds> s: <rate>/s".  Exits 1 on any
 * protocol surprise (a status other than 200/101, an unexpected frame).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 16384

struct conn {
	int fd;
	int ws_open; /* ws mode: the handshake answer has arrived */
	size_t used; /* bytes in in[] */
	char in[BUF];
};

static int ws_mode;
static int hold_mode;
static long held;
static const char http_req[] = "GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n";
static const char ws_hello[] =
	"GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
static unsigned char ws_frame[2 + 4 + 64];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "http_load: %s\n", what);
	exit(1);
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write failed");
		}
		c += w;
		n -= (size_t)w;
	}
}

static void send_next(struct conn *c)
{
	if (ws_mode)
		send_all(c->fd, ws_frame, sizeof(ws_frame));
	else
		send_all(c->fd, http_req, sizeof(http_req) - 1);
}

/* Consumes whole answers from c->in; returns how many. */
static long consume(struct conn *c)
{
	long done = 0;
	for (;;) {
		char *end = NULL;
		size_t whole = 0;
		if (ws_mode && c->ws_open) {
			if (c->used < 66)
				break;
			if ((unsigned char)c->in[0] != 0x81 || c->in[1] != 64)
				die("unexpected frame");
			whole = 66;
		} else {
			c->in[c->used < BUF ? c->used : BUF - 1] = 0;
			end = strstr(c->in, "\r\n\r\n");
			if (!end)
				break;
			size_t head = (size_t)(end - c->in) + 4;
			if (ws_mode) {
				if (strncmp(c->in, "HTTP/1.1 101", 12) != 0)
					die("handshake refused");
				c->ws_open = 1;
				memmove(c->in, c->in + head, c->used - head);
				c->used -= head;
				if (hold_mode) {
					held++;
					break;
				}
				send_next(c);
				continue;
			}
			if (strncmp(c->in, "HTTP/1.1 200", 12) != 0)
				die("status not 200");
			size_t len = 0;
			for (char *p = c->in; p < end; p++) {
				if (strncasecmp(p, "\ncontent-length:", 16) == 0) {
					len = strtoul(p + 16, NULL, 10);
					break;
				}
			}
			whole = head + len;
			if (c->used < whole)
				break;
		}
		memmove(c->in, c->in + whole, c->used - whole);
		c->used -= whole;
		done++;
		send_next(c);
	}
	return done;
}

/* hold mode: read handshake answers until `want` are in (or 120 s pass) */
static void wait_held(int ep, long want)
{
	struct epoll_event evs[256];
	double give_up = now() + 120;
	while (held < want && now() < give_up) {
		int k = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->in + c->used, BUF - 1 - c->used);
			if (r <= 0)
				die("a connection failed during the handshake");
			c->used += (size_t)r;
			consume(c);
		}
	}
}

int main(int argc, char **argv)
{
	/* a server that closes a connection must not kill the load generator silently */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 5)
		die("usage: http_load http|ws PORT CONNS SECONDS");
	hold_mode = strcmp(argv[1], "hold") == 0;
	ws_mode = hold_mode || strcmp(argv[1], "ws") == 0;
	int port = atoi(argv[2]), n = atoi(argv[3]);
	double seconds = atof(argv[4]);
	ws_frame[0] = 0x81;
	ws_frame[1] = 0x80 | 64;
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result): a mask key
	memcpy(ws_frame + 2, "\x12\x34\x56\x78", 4);
	for (int i = 0; i < 64; i++)
		ws_frame[6 + i] = (unsigned char)('a' + i % 26) ^ ws_frame[2 + i % 4];

	int ep = epoll_create1(0);
	struct conn *conns = calloc((size_t)n, sizeof(*conns));
	if (!conns)
		die("out of memory");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "http_load: connection %d: %s\n", i, strerror(errno));
			exit(1);
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conns[i].fd = fd;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &conns[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		if (ws_mode)
			send_all(fd, ws_hello, sizeof(ws_hello) - 1);
		else
			send_next(&conns[i]);
		/* hold mode opens thousands: in steps, so the listen backlog never overflows */
		if (hold_mode && (i + 1) % 200 == 0)
			wait_held(ep, i + 1);
	}
	long count = 0;
	if (hold_mode) {
		/* every handshake answered, then idle */
		wait_held(ep, n);
		printf("HELD %ld\n", held);
		fflush(stdout);
		struct timespec ts = { (time_t)seconds, 0 };
		nanosleep(&ts, NULL);
		return held == n ? 0 : 1;
	}
	double start = now(), stop = start + seconds;
	struct epoll_event evs[256];
	while (now() < stop) {
		int k = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->in + c->used, BUF - 1 - c->used);
			if (r == 0)
				die("server closed a connection");
			if (r < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				die("read failed");
			}
			c->used += (size_t)r;
			count += consume(c);
		}
	}
	double took = now() - start;
	printf("RESULT %ld in %.2f s: %.0f/s\n", count, took, (double)count / took);
	for (int i = 0; i < n; i++)
		if (conns[i].fd > 0)
			close(conns[i].fd);
	free(conns);
	close(ep);
	return 0;
}
