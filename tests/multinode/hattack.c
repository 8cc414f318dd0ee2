/*
 * hattack — a hostile (or merely odd) harbor peer for the attack tests.  It
 * drives the real link state machine (harbor/link.h) over a TCP socket.
 *
 * usage: hattack MODE HOST PORT KEYFILE PURPOSE ID [FILE]
 *   MODE     idle      connect and send nothing
 *            bighdr    send a record header announcing 16 MiB
 *            slow      send our HELLO one byte per second
 *            hello     full handshake as node ID (KEYFILE "-": a random key),
 *                      then wait; reports whether the other side accepted us
 *            record    like hello, and write every byte we sent to FILE
 *            replay    send FILE's bytes as they are
 *            flip      handshake, then one Data frame with a flipped byte
 *   PURPOSE  peer | master
 * Prints one line: "EOF <ms> <state>" when the other side closed, where state
 * is one of handshake / established / closed:<reason>; or "TIMEOUT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "link.h"

/* A one-shot attack tool that exits from many places: its memory is the OS's
 * to reclaim, so leak reports from it (under ASan) would only be noise. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int established;
static FILE *recfile;

static void on_est(void *ud, struct link *l) { established = 1; }
static void on_rec(void *ud, struct link *l, unsigned t, uint8_t *d, size_t n) {}

static void put(int fd, const uint8_t *p, size_t n)
{
	if (recfile)
		fwrite(p, 1, n, recfile);
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: hattack MODE HOST PORT KEYFILE PURPOSE ID [FILE]\n");
		return 2;
	}
	const char *mode = argv[1];
	if (sodium_init() < 0)
		return 2;
	uint8_t key[32];
	char err[256];
	if (strcmp(argv[4], "-") == 0)
		randombytes_buf(key, sizeof key);
	else if (keyfile_load(argv[4], key, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
	inet_pton(AF_INET, argv[2], &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		perror("connect");
		return 2;
	}
	struct link_config cfg = {
		.role = LINK_INITIATOR,
		.purpose = strcmp(argv[5], "master") == 0 ? LINK_HARBOR_MASTER : LINK_HARBOR_PEER,
		.cluster_key = key,
		.on_established = on_est,
		.on_record = on_rec,
		.handshake_timeout_ms = 60000,
	};
	cfg.self.node_id = (uint32_t)strtoul(argv[6], NULL, 10);
	randombytes_buf(&cfg.self.incarnation, sizeof cfg.self.incarnation);
	snprintf(cfg.self.name, sizeof cfg.self.name, "hattack");
	uint64_t t0 = now_ms();
	struct link *l = link_create(&cfg, t0);
	struct link_buf out = {0};
	int slow = strcmp(mode, "slow") == 0;
	size_t slow_at = 0;
	int flipped = 0;
	if (strcmp(mode, "record") == 0 && argc > 7)
		recfile = fopen(argv[7], "wb");
	if (strcmp(mode, "bighdr") == 0) {
		static const uint8_t hdr[5] = {0x01, 0x00, 0x00, 0x00, 0x01};
		put(fd, hdr, sizeof hdr);
	} else if (strcmp(mode, "replay") == 0) {
		FILE *f = fopen(argv[7], "rb");
		uint8_t buf[4096];
		size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
		put(fd, buf, n);
	} else if (strcmp(mode, "idle") != 0) {
		link_start(l, &out);
	}
	for (;;) {
		if (!slow && out.len) {
			put(fd, out.data, out.len);
			link_buf_consume(&out, out.len);
		}
		if (established && strcmp(mode, "flip") == 0 && !flipped) {
			static const uint8_t data[] = {0x0d, 0x01, 0x00, 0x00, 0x01};
			link_seal(l, &out, 16, data, sizeof data);
			out.data[out.len - 3] ^= 0x01;
			flipped = 1;
			continue;
		}
		if (recfile && established) {
			fclose(recfile);
			recfile = NULL;
			printf("RECORDED\n");
			return 0;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, slow ? 1000 : 200);
		if (slow && slow_at < out.len && r == 0) {
			put(fd, out.data + slow_at, 1);
			slow_at++;
		}
		if (now_ms() - t0 > 30000) {
			printf("TIMEOUT\n");
			return 1;
		}
		if (r <= 0)
			continue;
		uint8_t buf[65536];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0) {
			const char *st = "handshake";
			char closed[300];
			if (link_state(l) == LINK_CLOSED) {
				snprintf(closed, sizeof closed, "closed:%s", link_reason(l));
				st = closed;
			} else if (established) {
				st = "established";
			}
			printf("EOF %llu %s%s\n", (unsigned long long)(now_ms() - t0), st,
			       established ? " (was established)" : "");
			return 0;
		}
		if (strcmp(mode, "idle") != 0 && strcmp(mode, "bighdr") != 0 && strcmp(mode, "replay") != 0)
			link_feed(l, buf, (size_t)n, now_ms(), &out);
	}
}
