/*
 * service_gate.c — the C `gate` service: accept TCP clients, cut their byte
 * streams into length-prefixed packets, and route each packet.
 *
 * Args: "S|L watchdog [host:]port client_tag max_conn [name=bytes ...]"
 *   S / L       packet header: 2 or 4 bytes, big-endian length of the body
 *   watchdog    ":hex" or ".name" told about opens/closes (and data, when nobody
 *               else takes it); "!" for none
 *   client_tag  message type for packets to agents/broker (0 = PTYPE_CLIENT)
 *   caps, each also a config key (gate_<name>) giving every gate's default:
 *     max_packet  [16 MiB]  a packet length at or over it closes the connection;
 *                           so one connection buffers less than this
 *     max_buffer  [64 MiB]  unfinished packets of all connections together;
 *                           past it the connection holding the most is closed
 *     send_limit  [16 MiB]  bytes queued for one client that does not read;
 *                           past it the connection is closed (checked when the
 *                           socket layer warns: at 1 MiB and each doubling, so
 *                           a limit under 1 MiB acts as 1 MiB)
 *   e.g. skynet.launch("gate", "L", watchdog, "0.0.0.0:8000", 0, 1024, "max_buffer=33554432")
 *
 * Memory: an unfinished packet holds only the bytes that arrived (see
 * gate_split.c), so the gate's input buffers stay under max_buffer whatever
 * its clients announce; every cap closes only the connection at fault, with a
 * log line, and the others go on.
 *
 * Stream grammar per connection:  packet* ; packet = len:u16be|u32be byte[len]
 * The splitting itself lives in gate_split.c (no runtime dependency, so it is
 * fuzzed on its own).
 *
 * Routing of one packet: broker if set (session = connection id, source 0); else
 * the connection's agent (source = its client handle); else the watchdog as text
 * "<id> data <bytes>" (session = id); else dropped.
 *
 * Commands (PTYPE_TEXT): kick <id> | forward <id> :<agent> :<client> |
 * broker <name> | start <id> | close.
 * PTYPE_CLIENT to the gate writes to a client: the last 4 bytes are the
 * connection id (u32le), the bytes before are sent as they are; the gate hands
 * the message buffer itself to the socket layer, so nothing is copied.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_split.h"
#include "skynet.h"
#include "skynet_socket.h"

#define BACKLOG 128
#define DEFAULT_MAX_PACKET ((size_t)GATE_SPLIT_MAX)
#define DEFAULT_MAX_BUFFER ((size_t)64 << 20)
#define DEFAULT_SEND_LIMIT ((size_t)16 << 20)
#define CAP_LIMIT ((size_t)1 << 30) /* no cap may be set above 1 GiB */

struct connection {
	int id; /* -1 when the slot is free */
	uint32_t agent;
	uint32_t client;
	bool dead; /* closing after a protocol error: ignore further data */
	char remote_name[64];
	struct gate_split *split; /* the packet being read */
	int next; /* bucket chain, or free list */
};

struct gate {
	struct skynet_context *ctx;
	int listen_id;
	uint32_t watchdog;
	uint32_t broker;
	int client_tag;
	int header_size;
	size_t max_packet;   /* first refused packet length */
	size_t max_buffer;   /* cap on `buffered` */
	size_t send_limit;   /* cap on one client's unsent bytes */
	size_t buffered;     /* sum of gate_split_buffered over the connections */
	int max_connection;
	int count;
	int free_list;
	int mask;
	int *bucket;
	struct connection *conn;
};

struct gate *gate_create(void);
int gate_init(struct gate *g, struct skynet_context *ctx, const char *parm);
void gate_release(struct gate *g);

struct gate *gate_create(void)
{
	struct gate *g = skynet_malloc(sizeof(*g));
	memset(g, 0, sizeof(*g));
	g->listen_id = -1;
	return g;
}

void gate_release(struct gate *g)
{
	if (g == NULL)
		return;
	if (g->conn) {
		for (int i = 0; i < g->max_connection; i++) {
			struct connection *c = &g->conn[i];
			if (c->id >= 0) {
				gate_split_free(c->split);
				skynet_socket_close(g->ctx, c->id);
			}
		}
	}
	if (g->listen_id >= 0)
		skynet_socket_close(g->ctx, g->listen_id);
	skynet_free(g->conn);
	skynet_free(g->bucket);
	skynet_free(g);
}

/* ---- id -> connection ---- */

static struct connection *find_conn(struct gate *g, int id)
{
	int i = g->bucket[(unsigned)id & (unsigned)g->mask];
	while (i >= 0) {
		if (g->conn[i].id == id)
			return &g->conn[i];
		i = g->conn[i].next;
	}
	return NULL;
}

/* Takes the splitter; NULL (nothing taken) when every slot is in use. */
static struct connection *add_conn(struct gate *g, int id, struct gate_split *split)
{
	int i = g->free_list;
	if (i < 0)
		return NULL;
	struct connection *c = &g->conn[i];
	g->free_list = c->next;
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->split = split;
	int *b = &g->bucket[(unsigned)id & (unsigned)g->mask];
	c->next = *b;
	*b = i;
	g->count++;
	return c;
}

static void remove_conn(struct gate *g, struct connection *c)
{
	int i = (int)(c - g->conn);
	int *p = &g->bucket[(unsigned)c->id & (unsigned)g->mask];
	while (*p != i)
		p = &g->conn[*p].next;
	*p = c->next;
	g->buffered -= gate_split_buffered(c->split);
	gate_split_free(c->split);
	c->split = NULL;
	c->id = -1;
	c->next = g->free_list;
	g->free_list = i;
	g->count--;
}

/* ---- reporting and routing ---- */

static void report(struct gate *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct gate *g, const char *fmt, ...)
{
	if (g->watchdog == 0)
		return;
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(tmp))
		n = (int)sizeof(tmp) - 1;
	skynet_send(g->ctx, 0, g->watchdog, PTYPE_TEXT, 0, tmp, (size_t)n);
}

/* Route one whole packet; takes ownership of data. */
static void forward(struct gate *g, struct connection *c, uint8_t *data, size_t size)
{
	struct skynet_context *ctx = g->ctx;
	if (g->broker) {
		skynet_send(ctx, 0, g->broker, g->client_tag | PTYPE_TAG_DONTCOPY, c->id, data, size);
		return;
	}
	if (c->agent) {
		skynet_send(ctx, c->client, c->agent, g->client_tag | PTYPE_TAG_DONTCOPY, 0, data,
			size);
		return;
	}
	if (g->watchdog) {
		char head[32];
		int n = snprintf(head, sizeof(head), "%d data ", c->id);
		char *tmp = skynet_malloc(size + (size_t)n);
		memcpy(tmp, head, (size_t)n);
		memcpy(tmp + n, data, size);
		skynet_free(data);
		skynet_send(ctx, 0, g->watchdog, PTYPE_TEXT | PTYPE_TAG_DONTCOPY, c->id, tmp,
			size + (size_t)n);
		return;
	}
	skynet_free(data);
}

/* Closes a connection at fault: its unfinished packet is freed now (so the
 * memory is back at once), its data is ignored until the socket's close. */
static void drop_conn(struct gate *g, struct connection *c)
{
	g->buffered -= gate_split_buffered(c->split);
	gate_split_free(c->split);
	c->split = NULL;
	c->dead = true;
	skynet_socket_close(g->ctx, c->id);
}

/* While the gate's unfinished packets exceed max_buffer, close the connection
 * holding the most: a client that sends a long packet slowly (or never ends
 * it) is the one cut off, not whoever happened to send next.  A scan over the
 * slots, but only when the cap is passed. */
static void enforce_max_buffer(struct gate *g)
{
	while (g->buffered > g->max_buffer) {
		struct connection *worst = NULL;
		size_t most = 0;
		for (int i = 0; i < g->max_connection; i++) {
			struct connection *c = &g->conn[i];
			size_t n = c->id >= 0 ? gate_split_buffered(c->split) : 0;
			if (n > most) {
				most = n;
				worst = c;
			}
		}
		if (worst == NULL)
			return; /* cannot happen: buffered is the sum of these */
		skynet_error(g->ctx, "gate: connection %d (%s) closed: unfinished packets of this gate "
			"reached %zu bytes, over max_buffer %zu; it held the most (%zu)",
			worst->id, worst->remote_name, g->buffered, g->max_buffer, most);
		drop_conn(g, worst);
	}
}

/* Cut `sz` bytes of a connection's stream into packets. */
static void feed(struct gate *g, struct connection *c, const uint8_t *data, size_t sz)
{
	if (c->dead)
		return;
	size_t before = gate_split_buffered(c->split);
	for (;;) {
		uint8_t *p;
		size_t size;
		enum gate_split_result r = gate_split_next(c->split, &data, &sz, &p, &size);
		if (r == GATE_SPLIT_NEED)
			break;
		if (r == GATE_SPLIT_PACKET) {
			forward(g, c, p, size);
			continue;
		}
		g->buffered -= before;
		before = gate_split_buffered(c->split);
		g->buffered += before;
		if (r == GATE_SPLIT_TOOBIG)
			skynet_error(g->ctx, "gate: connection %d (%s) closed: a packet length at or over "
				"max_packet (%zu bytes)", c->id, c->remote_name, g->max_packet);
		else
			skynet_error(g->ctx, "gate: connection %d (%s) closed: out of memory for a packet",
				c->id, c->remote_name);
		drop_conn(g, c);
		return;
	}
	g->buffered = g->buffered - before + gate_split_buffered(c->split);
	enforce_max_buffer(g);
}

static void on_socket(struct gate *g, const struct skynet_socket_message *m, size_t sz)
{
	struct skynet_context *ctx = g->ctx;
	switch (m->type) {
	case SKYNET_SOCKET_TYPE_DATA: {
		struct connection *c = find_conn(g, m->id);
		if (c == NULL) {
			skynet_error(ctx, "Drop unknown connection %d message", m->id);
			skynet_socket_close(ctx, m->id);
		} else {
			feed(g, c, (const uint8_t *)m->buffer, (size_t)m->ud);
		}
		skynet_free(m->buffer);
		break;
	}
	case SKYNET_SOCKET_TYPE_CONNECT:
		if (m->id == g->listen_id && m->ud > 0)
			skynet_error(ctx, "gate: listen on %s:%d", (const char *)(m + 1), m->ud);
		break;
	case SKYNET_SOCKET_TYPE_CLOSE:
	case SKYNET_SOCKET_TYPE_ERROR: {
		if (m->id == g->listen_id) {
			if (m->type == SKYNET_SOCKET_TYPE_ERROR) {
				skynet_error(ctx, "gate: listen socket error %s", (const char *)(m + 1));
				break; /* e.g. out of descriptors: the listen socket goes on */
			}
			g->listen_id = -1;
			break;
		}
		struct connection *c = find_conn(g, m->id);
		if (c) {
			remove_conn(g, c);
			report(g, "%d close", m->id);
		}
		if (m->type == SKYNET_SOCKET_TYPE_CLOSE)
			skynet_socket_close(ctx, m->id); /* release a half-closed socket */
		break;
	}
	case SKYNET_SOCKET_TYPE_ACCEPT: {
		int id = m->ud;
		struct gate_split *split = NULL;
		if (find_conn(g, id) == NULL)
			split = gate_split_new(g->header_size, g->max_packet);
		struct connection *c = split ? add_conn(g, id, split) : NULL;
		if (c == NULL) {
			gate_split_free(split);
			skynet_socket_close(ctx, id); /* full (or out of memory) */
			break;
		}
		size_t padlen = sz - sizeof(*m);
		if (padlen >= sizeof(c->remote_name))
			padlen = sizeof(c->remote_name) - 1;
		memcpy(c->remote_name, m + 1, padlen);
		c->remote_name[padlen] = '\0';
		report(g, "%d open %d %s:0", id, id, c->remote_name);
		if (g->watchdog == 0)
			skynet_socket_start(ctx, id); /* nobody will tell us to */
		break;
	}
	case SKYNET_SOCKET_TYPE_WARNING: {
		/* ud: KiB queued for this client, raised as the queue doubles from
		 * 1 MiB (0 once it drained) */
		struct connection *c = find_conn(g, m->id);
		if (c && !c->dead && (size_t)m->ud * 1024 >= g->send_limit) {
			skynet_error(ctx, "gate: connection %d (%s) closed: %d KiB queued for a client that "
				"does not read, over send_limit (%zu bytes)", m->id, c->remote_name, m->ud,
				g->send_limit);
			drop_conn(g, c);
			skynet_socket_shutdown(ctx, m->id); /* drop what is queued, not wait for it */
		} else if (m->ud > 0) {
			skynet_error(ctx, "fd (%d) send buffer (%d)K", m->id, m->ud);
		}
		break;
	}
	case SKYNET_SOCKET_TYPE_UDP:
		skynet_free(m->buffer);
		break;
	default:
		break;
	}
}

/* "kick 12", "forward 12 :0100000a :00000000", "broker .name", "start 12", "close" */
static void on_command(struct gate *g, const char *msg, size_t sz)
{
	struct skynet_context *ctx = g->ctx;
	char cmd[256];
	if (sz >= sizeof(cmd)) {
		skynet_error(ctx, "gate: command too long");
		return;
	}
	memcpy(cmd, msg, sz);
	cmd[sz] = '\0';
	char *arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = '\0';
	if (strcmp(cmd, "kick") == 0 && arg) {
		int id = atoi(arg);
		if (find_conn(g, id))
			skynet_socket_close(ctx, id);
	} else if (strcmp(cmd, "forward") == 0 && arg) {
		int id;
		char agent[64], client[64];
		if (sscanf(arg, "%d %63s %63s", &id, agent, client) != 3) {
			skynet_error(ctx, "gate: bad forward %s", arg);
			return;
		}
		struct connection *c = find_conn(g, id);
		if (c == NULL) {
			skynet_error(ctx, "gate: forward to unknown connection %d", id);
			return;
		}
		c->agent = (uint32_t)strtoul(agent + (agent[0] == ':'), NULL, 16);
		c->client = (uint32_t)strtoul(client + (client[0] == ':'), NULL, 16);
	} else if (strcmp(cmd, "broker") == 0 && arg) {
		g->broker = skynet_queryname(ctx, arg);
	} else if (strcmp(cmd, "start") == 0 && arg) {
		int id = atoi(arg);
		if (find_conn(g, id))
			skynet_socket_start(ctx, id);
		else
			skynet_error(ctx, "gate: start unknown connection %d", id);
	} else if (strcmp(cmd, "close") == 0) {
		if (g->listen_id >= 0) {
			skynet_socket_close(ctx, g->listen_id);
			g->listen_id = -1;
		}
	} else {
		skynet_error(ctx, "gate: unknown command %s", cmd);
	}
}

static int gate_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
	const void *msg, size_t sz)
{
	struct gate *g = ud;
	switch (type) {
	case PTYPE_TEXT:
		on_command(g, msg, sz);
		return 0;
	case PTYPE_CLIENT: {
		if (sz < 4) {
			skynet_error(ctx, "gate: invalid client message from %x", source);
			return 0;
		}
		const uint8_t *tail = (const uint8_t *)msg + sz - 4;
		int id = (int)((uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
			       (uint32_t)tail[3] << 24);
		if (find_conn(g, id) == NULL) {
			skynet_error(ctx, "gate: write to unknown connection %d", id);
			return 0;
		}
		/* keep the message buffer: the socket layer owns and frees it */
		skynet_socket_send(ctx, id, (void *)msg, (int)(sz - 4));
		return 1;
	}
	case PTYPE_SOCKET:
		on_socket(g, msg, sz);
		return 0;
	default:
		return 0; /* unknown types are ignored, as skynet's gate does */
	}
}

/* A cap from the config key (or the default), then from "name=bytes" in the
 * open parameters; 0 on success, -1 (reported) on a bad value. */
static int read_cap(struct skynet_context *ctx, const char *name, const char *extra, size_t dflt,
	size_t *out)
{
	char key[32], pattern[40];
	snprintf(key, sizeof(key), "gate_%s", name);
	const char *v = skynet_command(ctx, "GETENV", key);
	const char *from = key;
	snprintf(pattern, sizeof(pattern), "%s=", name);
	for (const char *s = extra; s && (s = strstr(s, pattern)) != NULL; s++) {
		if (s == extra || s[-1] == ' ') {
			v = s + strlen(pattern);
			from = name;
			break;
		}
	}
	if (v == NULL || *v == '\0') {
		*out = dflt;
		return 0;
	}
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (end == v || (*end != '\0' && *end != ' ') || n == 0 || n > CAP_LIMIT || v[0] == '-') {
		skynet_error(ctx, "gate: %s must be a number of bytes from 1 to %zu", from, CAP_LIMIT);
		return -1;
	}
	*out = (size_t)n;
	return 0;
}

int gate_init(struct gate *g, struct skynet_context *ctx, const char *parm)
{
	if (parm == NULL)
		return 1;
	char header;
	char watchdog[64], binding[128];
	int client_tag = 0, max = 0, used = 0;
	if (sscanf(parm, "%c %63s %127s %d %d%n", &header, watchdog, binding, &client_tag, &max, &used) != 5) {
		skynet_error(ctx, "gate: invalid parameter %s", parm);
		return 1;
	}
	const char *extra = parm + used;
	while (*extra == ' ')
		extra++;
	if (read_cap(ctx, "max_packet", extra, DEFAULT_MAX_PACKET, &g->max_packet) != 0 ||
		read_cap(ctx, "max_buffer", extra, DEFAULT_MAX_BUFFER, &g->max_buffer) != 0 ||
		read_cap(ctx, "send_limit", extra, DEFAULT_SEND_LIMIT, &g->send_limit) != 0)
		return 1;
	if (max <= 0) {
		skynet_error(ctx, "gate: need max connection");
		return 1;
	}
	if (header != 'S' && header != 'L') {
		skynet_error(ctx, "gate: invalid data header style %c", header);
		return 1;
	}
	g->ctx = ctx;
	g->header_size = header == 'S' ? 2 : 4;
	g->client_tag = client_tag == 0 ? PTYPE_CLIENT : client_tag;
	if (watchdog[0] != '!') {
		g->watchdog = skynet_queryname(ctx, watchdog);
		if (g->watchdog == 0) {
			skynet_error(ctx, "gate: invalid watchdog %s", watchdog);
			return 1;
		}
	}
	g->max_connection = max;
	int buckets = 16;
	while (buckets < max * 2)
		buckets *= 2;
	g->mask = buckets - 1;
	g->bucket = skynet_malloc(sizeof(int) * (size_t)buckets);
	for (int i = 0; i < buckets; i++)
		g->bucket[i] = -1;
	g->conn = skynet_malloc(sizeof(struct connection) * (size_t)max);
	for (int i = 0; i < max; i++) {
		g->conn[i].id = -1;
		g->conn[i].split = NULL;
		g->conn[i].next = i + 1 < max ? i + 1 : -1;
	}
	g->free_list = 0;

	/* [host:]port; the host may be a bracketed IPv6 address */
	char *host = binding;
	char *portstr = strrchr(binding, ':');
	if (portstr) {
		*portstr++ = '\0';
		if (host[0] == '[') {
			host++;
			char *close = strchr(host, ']');
			if (close)
				*close = '\0';
		}
	} else {
		portstr = binding;
		host = "";
	}
	int port = atoi(portstr);
	g->listen_id = skynet_socket_listen(ctx, host, port, BACKLOG);
	if (g->listen_id < 0) {
		skynet_error(ctx, "gate: cannot listen on %s:%d: %s", host, port, strerror(errno));
		return 1;
	}
	skynet_socket_start(ctx, g->listen_id);
	/* a draining node closes its gates: tell `.shutdown` (services/shutdownd.lua) */
	uint32_t drain = skynet_queryname(ctx, ".shutdown");
	if (drain)
		skynet_send(ctx, 0, drain, PTYPE_TEXT, 0, (void *)"gate", 4);
	skynet_callback(ctx, g, gate_cb);
	return 0;
}
