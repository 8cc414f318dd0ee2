/*
 * test_socket_server.c — socket_server driven directly, no services.
 *
 * The main thread plays the socket thread (it alone calls socket_server_poll);
 * extra threads play workers where concurrency matters. Every wait has a deadline
 * (alarm) so a hang fails the test instead of blocking the suite.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skynet_malloc.h"
#include "socket_server.h"
#include "../check.h"

static struct socket_server *SS;

static const char *type_name(int t)
{
	static const char *names[] = { "DATA", "CLOSE", "OPEN", "ACCEPT", "ERR", "EXIT", "UDP", "WARNING" };
	return t >= 0 && t < 8 ? names[t] : "?";
}

struct event {
	int type;
	struct socket_message m;
	char text[128];
};

static int next_event(struct event *e)
{
	int more = 1;
	e->type = socket_server_poll(SS, &e->m, &more);
	e->text[0] = '\0';
	if ((e->type == SOCKET_OPEN || e->type == SOCKET_ACCEPT || e->type == SOCKET_ERR) && e->m.data)
		snprintf(e->text, sizeof(e->text), "%s", e->m.data);
	return e->type;
}

static void drop_event(struct event *e)
{
	if (e->type == SOCKET_DATA || e->type == SOCKET_UDP)
		skynet_free(e->m.data);
}

/* Poll until an event of `type` for socket `id` (-1: any id) comes; others are dropped
 * unless `keep_data` points at a byte counter for DATA of that id. */
static void expect(int type, int id, struct event *out)
{
	for (;;) {
		next_event(out);
		if (out->type == type && (id < 0 || out->m.id == id))
			return;
		if (out->type == SOCKET_ERR || out->type == SOCKET_CLOSE)
			fprintf(stderr, "  (skipping %s id=%d %s)\n", type_name(out->type), out->m.id,
			        out->text);
		drop_event(out);
	}
}

static int listen_started(int *port)
{
	int lid = socket_server_listen(SS, 1, "127.0.0.1", 0, 128);
	CHECK(lid > 0);
	struct event e;
	expect(SOCKET_OPEN, lid, &e);
	CHECK(e.m.ud > 0);
	CHECK(strcmp(e.text, "127.0.0.1") == 0);
	*port = e.m.ud;
	socket_server_start(SS, 1, lid);
	expect(SOCKET_OPEN, lid, &e);
	CHECK(strcmp(e.text, "start") == 0);
	return lid;
}

/* Connect a client through the server and accept it; returns both ids. */
static void connect_pair(int port, int *client, int *server)
{
	int cid = socket_server_connect(SS, 2, "127.0.0.1", port);
	CHECK(cid > 0);
	bool opened = false;
	int sid = -1;
	while (!opened || sid < 0) {
		struct event e;
		next_event(&e);
		if (e.type == SOCKET_OPEN && e.m.id == cid) {
			CHECK(e.m.opaque == 2);
			opened = true;
		} else if (e.type == SOCKET_ACCEPT) {
			CHECK(e.m.opaque == 1);
			CHECK(strncmp(e.text, "127.0.0.1:", 10) == 0);
			sid = e.m.ud;
		} else {
			drop_event(&e);
		}
	}
	socket_server_start(SS, 3, sid);
	struct event e;
	expect(SOCKET_OPEN, sid, &e);
	CHECK(strcmp(e.text, "start") == 0);
	CHECK(e.m.opaque == 3);
	*client = cid;
	*server = sid;
}

static void send_string(int id, const char *s)
{
	struct socket_sendbuffer b = { id, SOCKET_BUFFER_RAWPOINTER, s, strlen(s) };
	CHECK(socket_server_send(SS, &b) == 0);
}

/* Read exactly n bytes from socket id into out (or discard when out is NULL). */
static void read_exact(int id, char *out, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct event e;
		next_event(&e);
		if (e.type == SOCKET_DATA && e.m.id == id) {
			CHECK(got + (size_t)e.m.ud <= n);
			if (out)
				memcpy(out + got, e.m.data, (size_t)e.m.ud);
			got += (size_t)e.m.ud;
		}
		CHECK(!(e.type == SOCKET_CLOSE && e.m.id == id));
		CHECK(!(e.type == SOCKET_ERR && e.m.id == id));
		drop_event(&e);
	}
}

static void test_echo_and_close(int port)
{
	int c, s;
	connect_pair(port, &c, &s);
	send_string(c, "hello");
	char buf[16] = { 0 };
	read_exact(s, buf, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	send_string(s, "world!");
	read_exact(c, buf, 6);
	CHECK(memcmp(buf, "world!", 6) == 0);
	/* close on the server: the client sees CLOSE (EOF), the closer sees CLOSE too */
	socket_server_close(SS, 3, s);
	struct event e;
	bool server_closed = false, client_closed = false;
	while (!server_closed || !client_closed) {
		next_event(&e);
		if (e.type == SOCKET_CLOSE && e.m.id == s)
			server_closed = true;
		if (e.type == SOCKET_CLOSE && e.m.id == c)
			client_closed = true;
		drop_event(&e);
	}
	/* writing to a closed socket: -1, buffer released, no crash */
	struct socket_sendbuffer b = { s, SOCKET_BUFFER_MEMORY, skynet_malloc(10), 10 };
	CHECK(socket_server_send(SS, &b) == -1);
	socket_server_close(SS, 2, c); /* CLOSE was already reported (EOF): no second one */
	socket_server_close(SS, 2, c); /* a stale id still answers, so waiters never hang */
	expect(SOCKET_CLOSE, c, &e);
	CHECK(e.m.opaque == 2);
	printf("ok echo and close\n");
}

static void test_bad_input(void)
{
	/* a port nobody listens on: bind one and close it to find it */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	int port = ntohs(sa.sin_port);
	close(fd);
	int id = socket_server_connect(SS, 5, "127.0.0.1", port);
	CHECK(id > 0);
	struct event e;
	expect(SOCKET_ERR, id, &e);
	CHECK(e.m.opaque == 5);
	CHECK(strstr(e.text, "refused") != NULL);
	id = socket_server_connect(SS, 5, "no-such-host.invalid", 80);
	expect(SOCKET_ERR, id, &e);
	CHECK(e.text[0] != '\0');
	printf("ok bad input (%s)\n", e.text);
	/* listen on a port already in use fails synchronously */
	int l1 = socket_server_listen(SS, 1, "127.0.0.1", 0, 8);
	expect(SOCKET_OPEN, l1, &e);
	CHECK(socket_server_listen(SS, 1, "127.0.0.1", e.m.ud, 8) == -1);
	socket_server_close(SS, 1, l1);
	expect(SOCKET_CLOSE, l1, &e);
	/* a stale id: start reports an error */
	socket_server_start(SS, 9, l1);
	expect(SOCKET_ERR, l1, &e);
	CHECK(e.m.opaque == 9);
}

/* ---- big transfer with a worker thread writing concurrently ---- */

struct writer_arg {
	int id;
	size_t total;
	size_t chunk;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	size_t sent = 0;
	unsigned char seq = 0;
	while (sent < a->total) {
		size_t n = a->chunk;
		if (n > a->total - sent)
			n = a->total - sent;
		unsigned char *buf = skynet_malloc(n);
		for (size_t i = 0; i < n; i++)
			buf[i] = seq++;
		struct socket_sendbuffer b = { a->id, SOCKET_BUFFER_MEMORY, buf, n };
		/* high priority only: bytes must arrive in order whether each packet was
		 * written directly by this thread or queued for the socket thread */
		CHECK(socket_server_send(SS, &b) == 0);
		sent += n;
	}
	return NULL;
}

static void test_big_transfer(int port, size_t total)
{
	int c, s;
	connect_pair(port, &c, &s);
	struct writer_arg a1 = { c, total, 65536 + 17 };
	struct writer_arg a2 = { s, total, 100000 };
	pthread_t t1, t2;
	pthread_create(&t1, NULL, writer_thread, &a1);
	pthread_create(&t2, NULL, writer_thread, &a2);
	size_t got_s = 0, got_c = 0;
	unsigned char seq_s = 0, seq_c = 0;
	int warnings = 0;
	while (got_s < total || got_c < total) {
		struct event e;
		next_event(&e);
		if (e.type == SOCKET_DATA) {
			CHECK(e.m.id == s || e.m.id == c);
			unsigned char *seq = e.m.id == s ? &seq_s : &seq_c;
			unsigned char *d = (unsigned char *)e.m.data;
			for (int i = 0; i < e.m.ud; i++)
				CHECK(d[i] == (*seq)++);
			*(e.m.id == s ? &got_s : &got_c) += (size_t)e.m.ud;
		} else if (e.type == SOCKET_WARNING) {
			warnings++;
		} else {
			fprintf(stderr, "unexpected %s id=%d %s\n", type_name(e.type), e.m.id, e.text);
			CHECK(0);
		}
		drop_event(&e);
	}
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	socket_server_shutdown(SS, 2, c);
	struct event e;
	expect(SOCKET_CLOSE, c, &e);
	expect(SOCKET_CLOSE, s, &e); /* peer reset or EOF */
	socket_server_close(SS, 3, s);
	printf("ok transfer %zu bytes each way (%d warnings)\n", total, warnings);
}

/* ---- warning fires and resets; pause stops reading; low priority order ---- */

static void test_warning_and_pause(int port)
{
	int c, s;
	connect_pair(port, &c, &s);
	socket_server_pause(SS, 2, c); /* the client stops reading */
	size_t total = 6 * 1024 * 1024;
	size_t chunk = 256 * 1024;
	for (size_t i = 0; i < total / chunk; i++) {
		char *buf = skynet_malloc(chunk);
		memset(buf, (int)i, chunk);
		struct socket_sendbuffer b = { s, SOCKET_BUFFER_MEMORY, buf, chunk };
		CHECK(socket_server_send(SS, &b) == 0);
	}
	struct event e;
	expect(SOCKET_WARNING, s, &e);
	CHECK(e.m.ud >= 1024);
	printf("ok warning at %d KiB\n", e.m.ud);
	socket_server_start(SS, 2, c); /* resume: the backlog drains */
	size_t got = 0;
	bool reset = false;
	while (got < total || !reset) {
		next_event(&e);
		if (e.type == SOCKET_DATA && e.m.id == c)
			got += (size_t)e.m.ud;
		else if (e.type == SOCKET_WARNING && e.m.id == s && e.m.ud == 0)
			reset = true;
		drop_event(&e);
	}
	CHECK(got == total);
	printf("ok warning reset after drain\n");

	/* high priority jumps ahead of queued low priority, packets never interleave */
	socket_server_pause(SS, 2, c);
	const size_t big = 2 * 1024 * 1024;
	char *lowbuf = skynet_malloc(big);
	memset(lowbuf, 'L', big);
	struct socket_sendbuffer b1 = { s, SOCKET_BUFFER_MEMORY, lowbuf, big };
	CHECK(socket_server_send_lowpriority(SS, &b1) == 0);
	char *lowbuf2 = skynet_malloc(big);
	memset(lowbuf2, 'M', big);
	struct socket_sendbuffer b2 = { s, SOCKET_BUFFER_MEMORY, lowbuf2, big };
	CHECK(socket_server_send_lowpriority(SS, &b2) == 0);
	char *hi = skynet_malloc(big);
	memset(hi, 'H', big);
	struct socket_sendbuffer b3 = { s, SOCKET_BUFFER_MEMORY, hi, big };
	CHECK(socket_server_send(SS, &b3) == 0);
	socket_server_start(SS, 2, c);
	char *all = malloc(3 * big);
	read_exact(c, all, 3 * big);
	/* runs: each packet arrives whole; M never before H */
	size_t runs = 1;
	for (size_t i = 1; i < 3 * big; i++)
		if (all[i] != all[i - 1])
			runs++;
	CHECK(runs == 3);
	char *m = memchr(all, 'M', 3 * big);
	char *h = memchr(all, 'H', 3 * big);
	CHECK(m && h && h < m);
	free(all);
	printf("ok priorities\n");
	socket_server_shutdown(SS, 2, c);
	socket_server_shutdown(SS, 3, s);
	expect(SOCKET_CLOSE, c, &e);
	expect(SOCKET_CLOSE, s, &e);
}

/* ---- half close: peer EOF, then we still write; local close flushes ---- */

struct reader_arg {
	int fd;
	size_t got;
	char fill;
};

static void *reader_thread(void *p)
{
	struct reader_arg *a = p;
	char rbuf[65536];
	for (;;) {
		ssize_t n = read(a->fd, rbuf, sizeof(rbuf));
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			CHECK(rbuf[i] == a->fill);
		a->got += (size_t)n;
	}
	socket_server_close(SS, 99, 0x7ffffff0);
	return NULL;
}

static void test_halfclose(int port)
{
	/* a raw client so we can shutdown(SHUT_WR) */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
		                  .sin_port = htons((uint16_t)port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	struct event e;
	expect(SOCKET_ACCEPT, -1, &e);
	int s = e.m.ud;
	socket_server_start(SS, 3, s);
	expect(SOCKET_OPEN, s, &e);
	CHECK(write(fd, "ping", 4) == 4);
	shutdown(fd, SHUT_WR);
	char buf[8];
	read_exact(s, buf, 4);
	expect(SOCKET_CLOSE, s, &e); /* peer finished sending */
	/* still writable after the peer's half close */
	size_t total = 3 * 1024 * 1024;
	char *big = skynet_malloc(total);
	memset(big, 'z', total);
	struct socket_sendbuffer b = { s, SOCKET_BUFFER_MEMORY, big, total };
	CHECK(socket_server_send(SS, &b) == 0);
	socket_server_close(SS, 3, s); /* flush, then close; no second CLOSE */
	struct reader_arg ra = { fd, 0, 'z' };
	pthread_t t;
	pthread_create(&t, NULL, reader_thread, &ra);
	/* The reader ends by closing a stale id, which answers CLOSE to opaque 99. */
	for (;;) {
		next_event(&e);
		CHECK(!(e.type == SOCKET_CLOSE && e.m.id == s));
		if (e.type == SOCKET_CLOSE && e.m.opaque == 99)
			break;
		drop_event(&e);
	}
	pthread_join(t, NULL);
	size_t got = ra.got;
	CHECK(got == total);
	close(fd);
	printf("ok half close (peer EOF, then %zu bytes flushed before close)\n", got);
}

/* Every request queued so far has been handled once this returns (FIFO). */
static void sync_requests(void)
{
	socket_server_close(SS, 98, 0x7ffffff1);
	struct event e;
	expect(SOCKET_CLOSE, 0x7ffffff1, &e);
	CHECK(e.m.opaque == 98);
}

/* bind: wrap an OS fd (a pipe here) and read it like a socket */
static void test_bind(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	int id = socket_server_bind(SS, 11, fds[0]);
	CHECK(id > 0);
	struct event e;
	expect(SOCKET_OPEN, id, &e);
	CHECK(strcmp(e.text, "binding") == 0 && e.m.opaque == 11);
	CHECK(write(fds[1], "piped", 5) == 5);
	char buf[8];
	read_exact(id, buf, 5);
	CHECK(memcmp(buf, "piped", 5) == 0);
	close(fds[1]);
	expect(SOCKET_CLOSE, id, &e); /* EOF on the pipe */
	close(fds[0]);                /* bound fds stay the caller's */
	printf("ok bind\n");
}

static void test_udp(const char *host)
{
	int a = socket_server_udp(SS, 7, host, 0);
	CHECK(a > 0);
	/* find a's port: a client socket sends to it via an OS socket lookup */
	int b = socket_server_udp(SS, 8, host, 0);
	CHECK(b > 0);
	sync_requests(); /* the socket thread has now set both up */
	struct socket_info *si = socket_server_info(SS);
	int port_a = 0;
	for (struct socket_info *p = si; p; p = p->next) {
		if (p->id == a) {
			CHECK(p->type == SOCKET_INFO_UDP);
			const char *colon = strrchr(p->name, ':');
			port_a = atoi(colon + 1);
		}
	}
	socket_info_release(si);
	CHECK(port_a > 0);
	CHECK(socket_server_udp_connect(SS, b, host, port_a) == 0);
	send_string(b, "udp-hello");
	struct event e;
	expect(SOCKET_UDP, a, &e);
	CHECK(e.m.ud == 9 && memcmp(e.m.data, "udp-hello", 9) == 0);
	int asz = 0;
	const struct socket_udp_address *from = socket_server_udp_address(SS, &e.m, &asz);
	CHECK(from != NULL);
	CHECK(asz == (strchr(host, ':') ? 19 : 7));
	uint8_t copy[UDP_ADDRESS_SIZE];
	memcpy(copy, from, (size_t)asz);
	drop_event(&e);
	struct socket_sendbuffer reply = { a, SOCKET_BUFFER_RAWPOINTER, "pong", 4 };
	CHECK(socket_server_udp_send(SS, (const struct socket_udp_address *)copy, &reply) == 0);
	expect(SOCKET_UDP, b, &e);
	CHECK(e.m.ud == 4 && memcmp(e.m.data, "pong", 4) == 0);
	drop_event(&e);
	socket_server_close(SS, 7, a);
	socket_server_close(SS, 8, b);
	expect(SOCKET_CLOSE, a, &e);
	expect(SOCKET_CLOSE, b, &e);
	printf("ok udp %s\n", host);
}

static void test_many_clients(int port, int n)
{
	int *cid = calloc((size_t)n, sizeof(int));
	for (int i = 0; i < n; i++) {
		cid[i] = socket_server_connect(SS, 2, "127.0.0.1", port);
		CHECK(cid[i] > 0);
	}
	int opened = 0, accepted = 0, echoed = 0, started = 0;
	while (echoed < n) {
		struct event e;
		next_event(&e);
		switch (e.type) {
		case SOCKET_OPEN:
			if (e.m.opaque == 2) {
				char msg[32];
				snprintf(msg, sizeof(msg), "client-%d", e.m.id);
				send_string(e.m.id, msg);
				opened++;
			} else {
				started++;
			}
			break;
		case SOCKET_ACCEPT:
			socket_server_start(SS, 3, e.m.ud);
			accepted++;
			break;
		case SOCKET_DATA:
			if (e.m.opaque == 3) {
				struct socket_sendbuffer b = { e.m.id, SOCKET_BUFFER_MEMORY, e.m.data,
					                       (size_t)e.m.ud };
				CHECK(socket_server_send(SS, &b) == 0);
				e.m.data = NULL;
			} else {
				char want[32];
				snprintf(want, sizeof(want), "client-%d", e.m.id);
				/* short messages arrive whole on loopback */
				CHECK((size_t)e.m.ud == strlen(want));
				CHECK(memcmp(e.m.data, want, (size_t)e.m.ud) == 0);
				echoed++;
			}
			break;
		default:
			fprintf(stderr, "unexpected %s id=%d %s\n", type_name(e.type), e.m.id, e.text);
			CHECK(0);
		}
		drop_event(&e);
	}
	CHECK(opened == n && accepted == n);
	for (int i = 0; i < n; i++)
		socket_server_close(SS, 2, cid[i]);
	int closed = 0;
	while (closed < 2 * n) {
		struct event e;
		next_event(&e);
		if (e.type == SOCKET_CLOSE) {
			closed++;
			if (e.m.opaque == 3)
				socket_server_close(SS, 3, e.m.id);
		}
		drop_event(&e);
	}
	free(cid);
	printf("ok %d concurrent clients echoed\n", n);
}

int main(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	alarm(60);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	SS = socket_server_create(0);
	CHECK(SS != NULL);
	int port;
	int lid = listen_started(&port);
	test_echo_and_close(port);
	test_bad_input();
	test_big_transfer(port, 64u * 1024 * 1024);
	test_warning_and_pause(port);
	test_halfclose(port);
	test_bind();
	test_udp("127.0.0.1");
	test_udp("::1");
	test_many_clients(port, rl.rlim_cur >= 2200 ? 1000 : 300);
	socket_server_close(SS, 1, lid);
	socket_server_exit(SS);
	struct event e;
	expect(SOCKET_EXIT, -1, &e);
	socket_server_release(SS);
	printf("all ok\n");
	return 0;
}
