/*
 * cluster_attack — a hostile cluster peer for test_attack.py, driving the real
 * secure link (link.h) over a blocking socket.
 *
 *   cluster_attack MODE HOST PORT [KEYFILE]
 *     good      handshake with the right key, expect to be established
 *     wrongkey  handshake with a random key, expect the node to hang up
 *     replay    after the handshake send one sealed record twice
 *     flip      after the handshake send a sealed record with one byte flipped
 * Exit 0 when the node behaved (established for good, closed the connection
 * within a few seconds otherwise), 1 otherwise, with a line saying what happened.
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
#include "linktool.h"

static int established;

/* Reads and feeds until `stop` says so, the peer hangs up (returns 1) or the
 * deadline passes (returns 0). */
static int pump(int fd, struct link *l, struct link_buf *out, uint64_t deadline, int until_est)
{
	uint8_t buf[65536];
	while (tool_now_ms() < deadline) {
		if (until_est && established)
			return 0;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return 1;
		link_feed(l, buf, (size_t)n, tool_now_ms(), out);
		if (out->len) {
			if (tool_write_all(fd, out->data, out->len) != 0)
				return 1;
			link_buf_consume(out, out->len);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s good|wrongkey|replay|flip|lenflip HOST PORT [KEYFILE]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	uint8_t key[LINK_KEY_BYTES];
	if (sodium_init() < 0)
		return 2;
	if (strcmp(mode, "wrongkey") == 0) {
		randombytes_buf(key, sizeof(key));
	} else {
		char err[256];
		if (argc < 5 || keyfile_load(argv[4], key, err, sizeof(err)) != 0) {
			fprintf(stderr, "key: %s\n", argc < 5 ? "missing" : err);
			return 2;
		}
	}
	int fd = tool_dial(argv[2], atoi(argv[3]));
	struct link_config cfg = {
		.role = LINK_INITIATOR,
		.purpose = LINK_CLUSTER,
		.cluster_key = key,
		.on_established = tool_note_established,
		.on_record = tool_ignore_record,
		.ud = &established,
	};
	cfg.self.incarnation = 1;
	snprintf(cfg.self.name, sizeof(cfg.self.name), "attacker");
	struct link *l = link_new(&cfg, tool_now_ms());
	struct link_buf out = { 0 };
	link_start(l, &out);
	tool_write_all(fd, out.data, out.len);
	link_buf_consume(&out, out.len);
	int closed = pump(fd, l, &out, tool_now_ms() + 5000, 1);
	int ok;
	if (strcmp(mode, "good") == 0) {
		ok = established;
		printf("%s\n", established ? "established" : "not established");
	} else if (strcmp(mode, "wrongkey") == 0) {
		ok = !established && closed;
		printf("wrongkey: %s, %s\n", established ? "established" : "not established",
		       closed ? "closed by the node" : "still open");
	} else {
		if (!established) {
			printf("%s: could not establish\n", mode);
			return 1;
		}
		uint8_t body[8] = { 0 };
		link_seal(l, &out, LINK_TYPE_HEARTBEAT, body, 0);
		size_t n = out.len;
		uint8_t *copy = malloc(n);
		memcpy(copy, out.data, n);
		if (strcmp(mode, "flip") == 0)
			copy[n - 3] ^= 0x20;
		if (strcmp(mode, "lenflip") == 0)
			copy[1] ^= 0x10; /* the length grows by 1 MiB; the header tag no longer fits */
		tool_write_all(fd, copy, n);
		if (strcmp(mode, "replay") == 0)
			tool_write_all(fd, copy, n);
		free(copy);
		link_buf_consume(&out, out.len);
		uint64_t t0 = tool_now_ms();
		closed = pump(fd, l, &out, tool_now_ms() + 5000, 0);
		ok = closed;
		printf("%s: %s after %llu ms\n", mode, closed ? "closed by the node" : "still open",
		       (unsigned long long)(tool_now_ms() - t0));
	}
	link_free(l);
	link_buf_free(&out);
	close(fd);
	return ok ? 0 : 1;
}
