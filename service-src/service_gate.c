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
 *   protocol=ws  WebSocket clients (RFC 6455, gate_ws.c) instead of length
 *                headers (S/L is then ignored): the gate answers the HTTP
 *                upgrade itself and reports "open" once it succeeded; each
 *                whole message is a packet; what is sent to a client goes
 *                out as one binary frame, or text with ws_frame=text.
 *                max_packet caps a message, max_buffer the unfinished
 *                messages and handshakes.  "kick <id> [code]" sends a close
 *                frame (1000 unless told) before closing.
 *   ws_handshake_timeout=<s>  [10] a ws connection whose handshake is not
 *                done this many seconds after its accept is closed (the
 *                watchdog does not know it yet, so only the gate can); a
 *                1-second tick checks, so the close comes within s + 1 s.
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
#include "gate_ws.h"
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
	bool opened;              /* "open" was reported (ws: after the handshake) */
	uint32_t born;            /* ws: the gate's tick at accept, for the handshake timeout */
	struct gate_split *split; /* the packet being read (length headers) */
	struct gate_ws *ws;       /* the WebSocket state (protocol=ws) */
	int next;                 /* bucket chain, or free list */
};

struct gate {
	struct skynet_context *ctx;
	int listen_id;
	uint32_t watchdog;
	uint32_t broker;
	int client_tag;
	int header_size;
	bool ws;                       /* protocol=ws */
	enum gate_ws_opcode ws_opcode; /* frames to clients: binary or text */
	int hs_timeout;                /* ws: seconds a handshake may take */
	uint32_t ticks;                /* ws: seconds since launch (a 1 s timer) */
	size_t max_packet;             /* first refused packet length */
	size_t max_buffer;             /* cap on `buffered` */
	size_t send_limit;             /* cap on one client's unsent bytes */
	size_t buffered;               /* sum of gate_split_buffered over the connections */
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
				gate_ws_free(c->ws);
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

/* Bytes held for the connection's unfinished packet, message or handshake. */
static size_t conn_buffered(const struct connection *c)
{
	return c->ws ? gate_ws_buffered(c->ws) : gate_split_buffered(c->split);
}

static void conn_free_reader(struct connection *c)
{
	gate_split_free(c->split);
	c->split = NULL;
	gate_ws_free(c->ws);
	c->ws = NULL;
}

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

/* Takes the reader (split or ws); NULL (nothing taken) when every slot is in use. */
static struct connection *add_conn(struct gate *g, int id, struct gate_split *split, struct gate_ws *ws)
{
	int i = g->free_list;
	if (i < 0)
		return NULL;
	struct connection *c = &g->conn[i];
	g->free_list = c->next;
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->split = split;
	c->ws = ws;
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
	g->buffered -= conn_buffered(c);
	conn_free_reader(c);
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
		skynet_send(ctx, c->client, c->agent, g->client_tag | PTYPE_TAG_DONTCOPY, 0, data, size);
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
	g->buffered -= conn_buffered(c);
	conn_free_reader(c);
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
			size_t n = c->id >= 0 ? conn_buffered(c) : 0;
			if (n > most) {
				most = n;
				worst = c;
			}
		}
		if (worst == NULL)
			return; /* cannot happen: buffered is the sum of these */
		skynet_error(g->ctx,
		             "gate: connection %d (%s) closed: unfinished packets of this gate "
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
			skynet_error(g->ctx,
			             "gate: connection %d (%s) closed: a packet length at or over "
			             "max_packet (%zu bytes)",
			             c->id, c->remote_name, g->max_packet);
		else
			skynet_error(g->ctx, "gate: connection %d (%s) closed: out of memory for a packet",
			             c->id, c->remote_name);
		drop_conn(g, c);
		return;
	}
	g->buffered = g->buffered - before + gate_split_buffered(c->split);
	enforce_max_buffer(g);
}

static void report_open(struct gate *g, struct connection *c)
{
	c->opened = true;
	report(g, "%d open %d %s:0", c->id, c->id, c->remote_name);
}

/* WebSocket mode: the handshake, then frames; whole messages are routed as
 * packets, replies (101, pong, close) go straight back to the client. */
static void feed_ws(struct gate *g, struct connection *c, const uint8_t *data, size_t sz)
{
	size_t before = gate_ws_buffered(c->ws);
	for (;;) {
		uint8_t *out;
		size_t n;
		enum gate_ws_result r = gate_ws_next(c->ws, &data, &sz, &out, &n);
		if (r == GATE_WS_NEED)
			break;
		if (r == GATE_WS_MESSAGE) {
			forward(g, c, out, n);
			continue;
		}
		if (out != NULL)
			skynet_socket_send(g->ctx, c->id, out, (int)n); /* the socket layer frees it */
		if (r == GATE_WS_REPLY) {
			if (!c->opened && gate_ws_open(c->ws))
				report_open(g, c);
			continue;
		}
		g->buffered = g->buffered - before + gate_ws_buffered(c->ws);
		if (r == GATE_WS_ERROR)
			skynet_error(g->ctx, "gate: websocket connection %d (%s) closed: %s", c->id,
			             c->remote_name, gate_ws_error(c->ws));
		drop_conn(g, c); /* the close frame (or HTTP error) is sent before the socket closes */
		return;
	}
	g->buffered = g->buffered - before + gate_ws_buffered(c->ws);
	enforce_max_buffer(g);
}

/* A message for a WebSocket client: buf holds the payload (n bytes) and 4
 * spare bytes (the connection id, already read), so a 2- or 4-byte frame
 * header fits by moving the payload; a 10-byte one needs the buffer grown.
 * Takes buf. */
static void send_ws(struct gate *g, int id, uint8_t *buf, size_t n)
{
	uint8_t hdr[10];
	size_t h = gate_ws_frame_header(hdr, g->ws_opcode, n);
	if (h > 4) {
		uint8_t *nb = skynet_realloc(buf, n + h);
		if (nb == NULL) {
			skynet_error(g->ctx, "gate: out of memory for a %zu-byte frame to %d", n, id);
			skynet_free(buf);
			return;
		}
		buf = nb;
	}
	memmove(buf + h, buf, n);
	memcpy(buf, hdr, h);
	skynet_socket_send(g->ctx, id, buf, (int)(n + h));
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
			if (c->dead)
				; /* closing after an error: its reader is gone */
			else if (g->ws)
				feed_ws(g, c, (const uint8_t *)m->buffer, (size_t)m->ud);
			else
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
			bool opened = c->opened;
			remove_conn(g, c);
			if (opened)
				report(g, "%d close", m->id);
		}
		if (m->type == SKYNET_SOCKET_TYPE_CLOSE)
			skynet_socket_close(ctx, m->id); /* release a half-closed socket */
		break;
	}
	case SKYNET_SOCKET_TYPE_ACCEPT: {
		int id = m->ud;
		struct gate_split *split = NULL;
		struct gate_ws *ws = NULL;
		if (find_conn(g, id) == NULL) {
			if (g->ws)
				ws = gate_ws_new(g->max_packet);
			else
				split = gate_split_new(g->header_size, g->max_packet);
		}
		struct connection *c = split || ws ? add_conn(g, id, split, ws) : NULL;
		if (c == NULL) {
			gate_split_free(split);
			gate_ws_free(ws);
			skynet_socket_close(ctx, id); /* full (or out of memory) */
			break;
		}
		size_t padlen = sz - sizeof(*m);
		if (padlen >= sizeof(c->remote_name))
			padlen = sizeof(c->remote_name) - 1;
		memcpy(c->remote_name, m + 1, padlen);
		c->remote_name[padlen] = '\0';
		if (g->ws) {
			/* the handshake is ours: read it now, report "open" once it succeeded */
			c->born = g->ticks;
			skynet_socket_start(ctx, id);
			break;
		}
		report_open(g, c);
		if (g->watchdog == 0)
			skynet_socket_start(ctx, id); /* nobody will tell us to */
		break;
	}
	case SKYNET_SOCKET_TYPE_WARNING: {
		/* ud: KiB queued for this client, raised as the queue doubles from
		 * 1 MiB (0 once it drained) */
		struct connection *c = find_conn(g, m->id);
		if (c && !c->dead && (size_t)m->ud * 1024 >= g->send_limit) {
			skynet_error(ctx,
			             "gate: connection %d (%s) closed: %d KiB queued for a client that "
			             "does not read, over send_limit (%zu bytes)",
			             m->id, c->remote_name, m->ud, g->send_limit);
			drop_conn(g, c);
			skynet_socket_shutdown(ctx, m->id); /* drop what is queued, not wait for it */
		} else if (m->ud > 0) {
			skynet_error(ctx, "fd (%d) send buffer (%d)K", m->id, m->ud);
		}
		break;
	}
	case SKYNET_SOCKET_TYPE_UDP: skynet_free(m->buffer); break;
	default: break;
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
		int id = 0, code = 1000;
		sscanf(arg, "%d %d", &id, &code);
		struct connection *c = find_conn(g, id);
		if (c && g->ws && c->opened && !c->dead) {
			size_t n;
			uint8_t *frame = gate_ws_close_frame(code, NULL, &n);
			if (frame)
				skynet_socket_send(ctx, id, frame, (int)n);
			drop_conn(g, c);
		} else if (c) {
			skynet_socket_close(ctx, id);
		}
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
		struct connection *c = find_conn(g, id);
		if (c && g->ws)
			; /* a WebSocket connection reads from its accept on */
		else if (c)
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

/* ws mode, once a second: close the connections still in their handshake
 * past hs_timeout.  A scan over the slots, once a second. */
static void on_tick(struct gate *g)
{
	g->ticks++;
	for (int i = 0; i < g->max_connection; i++) {
		struct connection *c = &g->conn[i];
		if (c->id < 0 || c->opened || c->dead || g->ticks - c->born <= (uint32_t)g->hs_timeout)
			continue;
		skynet_error(g->ctx, "gate: websocket connection %d (%s) closed: no handshake within %d s",
		             c->id, c->remote_name, g->hs_timeout);
		drop_conn(g, c);
	}
	skynet_command(g->ctx, "TIMEOUT", "100");
}

static int gate_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                   const void *msg, size_t sz)
{
	struct gate *g = ud;
	switch (type) {
	case PTYPE_RESPONSE:
		if (g->ws)
			on_tick(g);
		return 0;
	case PTYPE_TEXT: on_command(g, msg, sz); return 0;
	case PTYPE_CLIENT: {
		if (sz < 4) {
			skynet_error(ctx, "gate: invalid client message from %x", source);
			return 0;
		}
		const uint8_t *tail = (const uint8_t *)msg + sz - 4;
		int id = (int)((uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
		               (uint32_t)tail[3] << 24);
		struct connection *c = find_conn(g, id);
		if (c == NULL) {
			skynet_error(ctx, "gate: write to unknown connection %d", id);
			return 0;
		}
		if (g->ws) {
			if (c->dead || !c->opened)
				return 0; /* closing (or not open yet): nothing more goes out */
			send_ws(g, id, (uint8_t *)msg, sz - 4);
			return 1;
		}
		/* keep the message buffer: the socket layer owns and frees it */
		skynet_socket_send(ctx, id, (void *)msg, (int)(sz - 4));
		return 1;
	}
	case PTYPE_SOCKET: on_socket(g, msg, sz); return 0;
	default: return 0; /* unknown types are ignored, as skynet's gate does */
	}
}

/* A cap from the config key (or the default), then from "name=bytes" in the
 * open parameters; 0 on success, -1 (reported) on a bad value. */
static int read_cap(struct skynet_context *ctx, const char *name, const char *extra, size_t dflt, size_t *out)
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

/* "name=word" in the open parameters into out (empty when absent). */
static void read_word(const char *extra, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	out[0] = '\0';
	for (const char *s = extra; s && (s = strstr(s, name)) != NULL; s++) {
		if ((s == extra || s[-1] == ' ') && s[nl] == '=') {
			const char *v = s + nl + 1;
			size_t n = strcspn(v, " ");
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return;
		}
	}
}

/* protocol=ws|tcp and ws_frame=binary|text; 0, or -1 (reported) on a bad value. */
static int read_protocol(struct gate *g, struct skynet_context *ctx, const char *extra)
{
	char word[16];
	read_word(extra, "protocol", word, sizeof(word));
	if (word[0] != '\0' && strcmp(word, "ws") != 0 && strcmp(word, "tcp") != 0) {
		skynet_error(ctx, "gate: protocol must be ws or tcp, not %s", word);
		return -1;
	}
	g->ws = strcmp(word, "ws") == 0;
	read_word(extra, "ws_frame", word, sizeof(word));
	if (word[0] != '\0' && strcmp(word, "binary") != 0 && strcmp(word, "text") != 0) {
		skynet_error(ctx, "gate: ws_frame must be binary or text, not %s", word);
		return -1;
	}
	g->ws_opcode = strcmp(word, "text") == 0 ? GATE_WS_TEXT : GATE_WS_BINARY;
	read_word(extra, "ws_handshake_timeout", word, sizeof(word));
	g->hs_timeout = 10;
	if (word[0] != '\0') {
		char *end;
		long t = strtol(word, &end, 10);
		if (*end != '\0' || t < 1 || t > 3600) {
			skynet_error(ctx, "gate: ws_handshake_timeout must be 1 to 3600 seconds, not %s",
			             word);
			return -1;
		}
		g->hs_timeout = (int)t;
	}
	return 0;
}

int gate_init(struct gate *g, struct skynet_context *ctx, const char *parm)
{
	if (parm == NULL)
		return 1;
	char header;
	char watchdog[64], binding[128];
	int client_tag = 0, max = 0, used = 0;
	if (sscanf(parm, "%c %63s %127s %d %d%n", &header, watchdog, binding, &client_tag, &max, &used) !=
	    5) {
		skynet_error(ctx, "gate: invalid parameter %s", parm);
		return 1;
	}
	const char *extra = parm + used;
	while (*extra == ' ')
		extra++;
	if (read_cap(ctx, "max_packet", extra, DEFAULT_MAX_PACKET, &g->max_packet) != 0 ||
	    read_cap(ctx, "max_buffer", extra, DEFAULT_MAX_BUFFER, &g->max_buffer) != 0 ||
	    read_cap(ctx, "send_limit", extra, DEFAULT_SEND_LIMIT, &g->send_limit) != 0 ||
	    read_protocol(g, ctx, extra) != 0)
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
		g->conn[i].ws = NULL;
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
	if (g->ws)
		skynet_command(ctx, "TIMEOUT", "100"); /* the handshake timeout's tick */
	return 0;
}
