/*
 * hattack — a hostile (or merely odd) harbor peer for the attack tests.  It
 * drives the real link state machine (harbor/link.h) over a TCP socket.
 *
 * usage: hattack MODE HOST PORT KEYFILE PURPOSE ID [FILE]
 *   MODE     idle      connect and send nothing
 *            bighdr    send a record header announcing 16 MiB
 *            slow      send our HELLO one byte per second
 *            hello     full handshake as node ID (KEYFILE "-": a random key),
 *                      then wait, answering heartbeats and sending nothing
 *                      else; reports whether the other side accepted us
 *            record    like hello, and write every byte we sent to FILE
 *            replay    send FILE's bytes as they are
 *            flip      handshake, then one Data frame with a flipped byte
 *   PURPOSE  peer | master
 * Prints one line: "EOF <ms> <state>" when the other side closed, where state
 * is one of handshake / established / closed:<reason>; or "TIMEOUT".
 *
 * usage: hattack node HOST MASTERPORT KEYFILE VICTIMPORT ID STEPS
 *   A hostile node that holds the key: it joins the cluster at the master as
 *   node ID (NodeAnnounce), links to the node at VICTIMPORT as a listed member,
 *   answers heartbeats on both links, and plays STEPS (a file, one per line):
 *     data TYPE SOURCE DEST SESSION [HEX]   a Data frame on the peer link
 *     register NAME HANDLE                  a NameRegister to the master
 *     relink INCARNATION                    a second peer link claiming ID with
 *                                           another incarnation (must be refused)
 *     leaving ID                            a NodeLeaving for node ID on the peer
 *                                           link ("self": for this node)
 *     mleaving ID                           the same on the master link
 *     wait MS                               pump both links for MS ms
 *     flip                                  a Data frame with a flipped length
 *                                           bit; waits until the victim closes
 *   SOURCE, DEST and HANDLE are numbers (0x.. allowed), "self+N" (a handle of
 *   node ID) or "name:NAME" (a global name from the master's table).
 *   Prints what it sees, one line each: JOINED, LINKED, NAME <name> <handle>,
 *   ANSWER <name> <handle> <found>, WITHDRAW <name> <handle>,
 *   CALLFAILED <source> <dest> <session> <reason>, DATA <type> <source> <dest>,
 *   RELINK <state>, FLIP <state> after <ms> ms, PEER EOF / MASTER EOF <reason>,
 *   DONE peer=<open|closed> master=<open|closed>.
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

#include "frame.h"
#include "harbor.pb-c.h"
#include "keyfile.h"
#include "link.h"
#include "link.pb-c.h"
#include "linktool.h"

/* A one-shot attack tool that exits from many places: its memory is the OS's
 * to reclaim, so leak reports from it (under ASan) would only be noise. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static int established;
static FILE *recfile;

static void on_est(void *ud, struct link *l)
{
	established = 1;
}

/* A heartbeat probe is answered, as a live node would: into out. */
static void answer_heartbeat(struct link *l, struct link_buf *out, const uint8_t *d, size_t n)
{
	Skiff__Link__Heartbeat *hb = skiff__link__heartbeat__unpack(NULL, n, d);
	if (hb && !hb->reply) {
		Skiff__Link__Heartbeat r = SKIFF__LINK__HEARTBEAT__INIT;
		r.seq = hb->seq;
		r.time_ms = hb->time_ms;
		r.reply = 1;
		frame_send(l, out, LINK_TYPE_HEARTBEAT, &r.base);
	}
	skiff__link__heartbeat__free_unpacked(hb, NULL);
}

/* Heartbeat probes are answered, as a live node would: a link that is closed
 * must be closed for what it did, not for silence. */
static void on_rec(void *ud, struct link *l, unsigned t, uint8_t *d, size_t n)
{
	if (t == LINK_TYPE_HEARTBEAT)
		answer_heartbeat(l, ud, d, n);
}

/* Sends, and records what was sent when recording. */
static void put(int fd, const uint8_t *p, size_t n)
{
	if (recfile)
		fwrite(p, 1, n, recfile);
	tool_write_all(fd, p, n);
}

/* ---- node mode --------------------------------------------------------------- */

struct conn {
	const char *tag;
	int fd;
	struct link *l;
	struct link_buf out;
	int up;
	int eof;
};

static struct pb_arena arena;
static uint32_t self_id;
static char names[64][16];
static uint32_t name_handles[64];
static int nnames;

static void learn_name(const char *name, uint32_t handle)
{
	for (int i = 0; i < nnames; i++)
		if (strcmp(names[i], name) == 0) {
			name_handles[i] = handle;
			return;
		}
	if (nnames < 64 && strlen(name) < 16) {
		strcpy(names[nnames], name);
		name_handles[nnames++] = handle;
	}
}

static uint32_t handle_arg(const char *s)
{
	if (strncmp(s, "self+", 5) == 0)
		return self_id << 24 | (uint32_t)strtoul(s + 5, NULL, 0);
	if (strncmp(s, "name:", 5) == 0) {
		for (int i = 0; i < nnames; i++)
			if (strcmp(names[i], s + 5) == 0)
				return name_handles[i];
		fprintf(stderr, "hattack: no global name %s known\n", s + 5);
		exit(2);
	}
	return (uint32_t)strtoul(s, NULL, 0);
}

static void node_est(void *ud, struct link *l)
{
	struct conn *c = ud;
	c->up = 1;
}

static void node_rec(void *ud, struct link *l, unsigned type, uint8_t *d, size_t n)
{
	struct conn *c = ud;
	if (type == LINK_TYPE_HEARTBEAT) {
		answer_heartbeat(l, &c->out, d, n);
		return;
	}
	switch (type) {
	case SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE: {
		Skiff__Harbor__NodeTable *t = (Skiff__Harbor__NodeTable *)frame_decode(
			&skiff__harbor__node_table__descriptor, &arena, d, n);
		for (size_t i = 0; t && i < t->n_names; i++) {
			learn_name(t->names[i]->name, t->names[i]->handle);
			printf("NAME %s 0x%08x\n", t->names[i]->name, t->names[i]->handle);
		}
		printf("JOINED %zu\n", t ? t->n_nodes : 0);
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER: {
		Skiff__Harbor__NameAnswer *a = (Skiff__Harbor__NameAnswer *)frame_decode(
			&skiff__harbor__name_answer__descriptor, &arena, d, n);
		if (a && a->binding) {
			if (a->found)
				learn_name(a->binding->name, a->binding->handle);
			printf("ANSWER %s 0x%08x %d\n", a->binding->name, a->binding->handle, a->found);
		}
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW: {
		Skiff__Harbor__NameWithdraw *w = (Skiff__Harbor__NameWithdraw *)frame_decode(
			&skiff__harbor__name_withdraw__descriptor, &arena, d, n);
		if (w && w->binding)
			printf("WITHDRAW %s 0x%08x\n", w->binding->name, w->binding->handle);
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__CALL_FAILED: {
		Skiff__Harbor__CallFailed *f = (Skiff__Harbor__CallFailed *)frame_decode(
			&skiff__harbor__call_failed__descriptor, &arena, d, n);
		if (f)
			printf("CALLFAILED 0x%08x 0x%08x %u %s\n", f->source, f->destination, f->session,
			       f->reason ? f->reason : "");
		break;
	}
	case SKIFF__HARBOR__FRAME_TYPE__DATA: {
		Skiff__Harbor__Data *x =
			(Skiff__Harbor__Data *)frame_decode(&skiff__harbor__data__descriptor, &arena, d, n);
		if (x)
			printf("DATA %u 0x%08x 0x%08x\n", x->type, x->source,
			       x->destination_case == SKIFF__HARBOR__DATA__DESTINATION_HANDLE ? x->handle
			                                                                      : 0);
		break;
	}
	default: printf("FRAME %s %u\n", c->tag, type); break;
	}
	pb_arena_reset(&arena);
	fflush(stdout);
}

static void conn_open(struct conn *c, const char *tag, const char *host, int port, enum link_purpose purpose,
                      const uint8_t *key, uint64_t incarnation)
{
	memset(c, 0, sizeof *c);
	c->tag = tag;
	c->fd = tool_dial(host, port);
	struct link_config cfg = {
		.role = LINK_INITIATOR,
		.purpose = purpose,
		.cluster_key = key,
		.on_established = node_est,
		.on_record = node_rec,
		.ud = c,
	};
	cfg.self.node_id = self_id;
	cfg.self.incarnation = incarnation;
	snprintf(cfg.self.name, sizeof cfg.self.name, "hattack");
	c->l = link_new(&cfg, tool_now_ms());
	link_start(c->l, &c->out);
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	link_free(c->l);
	c->l = NULL;
	link_buf_free(&c->out);
}

/* Moves bytes both ways on every open connection for up to ms. */
static void pump(struct conn **cs, int n, uint64_t ms)
{
	uint64_t end = tool_now_ms() + ms;
	for (;;) {
		struct pollfd p[4];
		for (int i = 0; i < n; i++) {
			struct conn *c = cs[i];
			if (c->fd >= 0 && c->out.len) {
				put(c->fd, c->out.data, c->out.len);
				link_buf_consume(&c->out, c->out.len);
			}
			p[i].fd = c->eof ? -1 : c->fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		uint64_t now = tool_now_ms();
		if (now >= end)
			return;
		if (poll(p, (nfds_t)n, (int)(end - now)) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			struct conn *c = cs[i];
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			uint8_t buf[65536];
			ssize_t r = read(c->fd, buf, sizeof buf);
			if (r <= 0) {
				c->eof = 1;
				link_eof(c->l);
				printf("%s EOF %s\n", c->tag, link_reason(c->l));
				fflush(stdout);
				continue;
			}
			link_feed(c->l, buf, (size_t)r, tool_now_ms(), &c->out);
		}
	}
}

static int run_node(char **argv)
{
	uint8_t key[32];
	char err[256];
	if (keyfile_load(argv[4], key, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const char *host = argv[2];
	self_id = (uint32_t)strtoul(argv[6], NULL, 10);
	uint64_t inc;
	randombytes_buf(&inc, sizeof inc);
	pb_arena_init(&arena, NULL, 0);
	struct conn master, peer, extra;
	conn_open(&master, "MASTER", host, atoi(argv[3]), LINK_HARBOR_MASTER, key, inc);
	struct conn *both[2] = { &master, &peer };
	for (int i = 0; i < 100 && !master.up && !master.eof; i++)
		pump(both, 1, 50);
	if (!master.up) {
		printf("MASTER REFUSED %s\n", link_reason(master.l));
		return 1;
	}
	Skiff__Harbor__NodeAnnounce a = SKIFF__HARBOR__NODE_ANNOUNCE__INIT;
	a.address = "127.0.0.1:1";
	frame_send(master.l, &master.out, SKIFF__HARBOR__FRAME_TYPE__NODE_ANNOUNCE, &a.base);
	pump(both, 1, 300);
	/* The victim learns of us from the master's NodeJoin, which may come after
	 * our dial: a refused link is retried, as a real node would. */
	for (int tries = 0;; tries++) {
		conn_open(&peer, "PEER", host, atoi(argv[5]), LINK_HARBOR_PEER, key, inc);
		for (int i = 0; i < 40 && !peer.up && !peer.eof; i++)
			pump(both, 2, 50);
		pump(both, 2, 100);
		if (peer.up && !peer.eof)
			break;
		conn_close(&peer);
		if (tries == 20) {
			printf("PEER REFUSED\n");
			return 1;
		}
	}
	printf("LINKED\n");
	fflush(stdout);
	FILE *f = fopen(argv[7], "r");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		char w[6][256] = { { 0 } };
		int k = sscanf(line, "%255s %255s %255s %255s %255s %255s", w[0], w[1], w[2], w[3], w[4],
		               w[5]);
		if (k <= 0)
			continue;
		if (strcmp(w[0], "data") == 0 && k >= 5) {
			Skiff__Harbor__Data d = SKIFF__HARBOR__DATA__INIT;
			uint8_t payload[128];
			size_t plen = 0;
			for (const char *h = w[5]; h[0] && h[1] && plen < sizeof payload; h += 2) {
				unsigned b;
				sscanf(h, "%2x", &b);
				payload[plen++] = (uint8_t)b;
			}
			d.type = (uint32_t)strtoul(w[1], NULL, 0);
			d.source = handle_arg(w[2]);
			d.destination_case = SKIFF__HARBOR__DATA__DESTINATION_HANDLE;
			d.handle = handle_arg(w[3]);
			d.session = (uint32_t)strtoul(w[4], NULL, 0);
			d.payload.data = payload;
			d.payload.len = plen;
			frame_send(peer.l, &peer.out, SKIFF__HARBOR__FRAME_TYPE__DATA, &d.base);
		} else if (strcmp(w[0], "register") == 0 && k >= 3) {
			Skiff__Harbor__NameBinding b = SKIFF__HARBOR__NAME_BINDING__INIT;
			Skiff__Harbor__NameRegister r = SKIFF__HARBOR__NAME_REGISTER__INIT;
			b.name = w[1];
			b.handle = handle_arg(w[2]);
			r.binding = &b;
			frame_send(master.l, &master.out, SKIFF__HARBOR__FRAME_TYPE__NAME_REGISTER, &r.base);
		} else if (strcmp(w[0], "relink") == 0 && k >= 2) {
			conn_open(&extra, "RELINK", host, atoi(argv[5]), LINK_HARBOR_PEER, key,
			          strtoull(w[1], NULL, 0));
			struct conn *one[1] = { &extra };
			for (int i = 0; i < 60 && !extra.eof; i++)
				pump(one, 1, 50);
			printf("RELINK %s\n", extra.eof ? link_reason(extra.l) : "still open");
			conn_close(&extra);
		} else if (strcmp(w[0], "flip") == 0) {
			/* a Data frame whose length has one bit flipped (+1 MiB) after sealing */
			static const uint8_t data[] = { 0x0d, 0x01, 0x00, 0x00, 0x09 };
			size_t at = peer.out.len;
			link_seal(peer.l, &peer.out, SKIFF__HARBOR__FRAME_TYPE__DATA, data, sizeof data);
			peer.out.data[at + 1] ^= 0x10;
			uint64_t t0 = tool_now_ms();
			struct conn *one[1] = { &peer };
			while (!peer.eof && tool_now_ms() - t0 < 10000)
				pump(one, 1, 50);
			printf("FLIP %s after %llu ms\n", peer.eof ? "closed" : "still open",
			       (unsigned long long)(tool_now_ms() - t0));
		} else if ((strcmp(w[0], "leaving") == 0 || strcmp(w[0], "mleaving") == 0) && k >= 2) {
			/* NodeLeaving for node w[1] ("self": this node, with its
			 * incarnation), on the peer link or (mleaving) the master link */
			Skiff__Harbor__NodeLeaving l = SKIFF__HARBOR__NODE_LEAVING__INIT;
			int self = strcmp(w[1], "self") == 0;
			l.id = self ? self_id : (uint32_t)strtoul(w[1], NULL, 0);
			l.incarnation = self ? inc : 0;
			l.reason = "hattack";
			struct conn *to = w[0][0] == 'm' ? &master : &peer;
			frame_send(to->l, &to->out, SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING, &l.base);
		} else if (strcmp(w[0], "wait") == 0 && k >= 2) {
			pump(both, 2, strtoull(w[1], NULL, 0));
		}
		fflush(stdout);
	}
	if (f)
		fclose(f);
	pump(both, 2, 200);
	printf("DONE peer=%s master=%s\n", peer.eof ? "closed" : "open", master.eof ? "closed" : "open");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 8 && strcmp(argv[1], "node") == 0) {
		if (sodium_init() < 0)
			return 2;
		return run_node(argv);
	}
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
	int fd = tool_dial(argv[2], atoi(argv[3]));
	struct link_buf out = { 0 };
	struct link_config cfg = {
		.role = LINK_INITIATOR,
		.purpose = strcmp(argv[5], "master") == 0 ? LINK_HARBOR_MASTER : LINK_HARBOR_PEER,
		.cluster_key = key,
		.on_established = on_est,
		.on_record = on_rec,
		.ud = &out,
		.handshake_timeout_ms = 60000,
	};
	cfg.self.node_id = (uint32_t)strtoul(argv[6], NULL, 10);
	randombytes_buf(&cfg.self.incarnation, sizeof cfg.self.incarnation);
	snprintf(cfg.self.name, sizeof cfg.self.name, "hattack");
	uint64_t t0 = tool_now_ms();
	struct link *l = link_new(&cfg, t0);
	int slow = strcmp(mode, "slow") == 0;
	size_t slow_at = 0;
	int flipped = 0;
	if (strcmp(mode, "record") == 0 && argc > 7)
		recfile = fopen(argv[7], "wb");
	if (strcmp(mode, "bighdr") == 0) {
		static const uint8_t hdr[5] = { 0x01, 0x00, 0x00, 0x00, 0x01 };
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
			static const uint8_t data[] = { 0x0d, 0x01, 0x00, 0x00, 0x01 };
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
		uint8_t buf[65536];
		long n = tool_read(fd, buf, sizeof buf, slow ? 1000 : 200, t0 + 30000);
		if (slow && slow_at < out.len && n == 0) {
			put(fd, out.data + slow_at, 1);
			slow_at++;
		}
		if (n == 0)
			continue;
		if (n < 0) {
			char st[300];
			printf("EOF %llu %s%s\n", (unsigned long long)(tool_now_ms() - t0),
			       tool_link_state(l, established, st, sizeof st),
			       established ? " (was established)" : "");
			return 0;
		}
		if (strcmp(mode, "idle") != 0 && strcmp(mode, "bighdr") != 0 && strcmp(mode, "replay") != 0)
			link_feed(l, buf, (size_t)n, tool_now_ms(), &out);
	}
}
