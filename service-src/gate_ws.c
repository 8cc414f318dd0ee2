/*
 * gate_ws.c — the C gate's WebSocket connection state machine (RFC 6455);
 * the grammar, events and ownership rules are in gate_ws.h.
 *
 * Invariants:
 *  - state HANDSHAKE: req holds the request bytes seen so far (< GATE_WS_MAX_REQUEST,
 *    no "\r\n\r\n" in them yet); nothing after the request's end is taken.
 *  - state FRAMES: either hdrlen < hdrneed (reading a frame header) or
 *    the header is whole and `remaining` payload bytes of the frame are due.
 *    msg_op is 0 when no data message is open, else the message's opcode;
 *    msglen < max_message always.
 *  - state DONE: after a close or an error; input is swallowed.
 * Payload is unmasked as it is copied out of the caller's read, so every
 * byte is copied once, into the buffer that is handed on.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "gate_ws.h"
#include "sha1.h"

enum { HANDSHAKE, FRAMES, DONE };

#define CONTROL_MAX 125

struct gate_ws {
	int state;
	size_t max_message;
	const char *why;
	int close_code;
	/* handshake */
	uint8_t *req;
	size_t reqlen;
	/* the frame being read */
	uint8_t hdr[GATE_WS_MAX_HEADER];
	uint8_t hdrlen, hdrneed;
	uint8_t op; /* opcode of the frame being read */
	bool fin;
	uint8_t keypos; /* payload bytes unmasked so far, mod 4 */
	uint64_t remaining;
	/* the data message being assembled */
	uint8_t msg_op;
	uint8_t *msg;
	size_t msglen, msgcap;
	/* a control frame's payload */
	uint8_t ctllen;
	uint8_t ctl[CONTROL_MAX];
};

struct gate_ws *gate_ws_new(size_t max_message)
{
	if (max_message == 0)
		return NULL;
	struct gate_ws *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->state = HANDSHAKE;
	w->max_message = max_message;
	w->why = "";
	w->hdrneed = 2;
	return w;
}

void gate_ws_free(struct gate_ws *w)
{
	if (w == NULL)
		return;
	free(w->req);
	free(w->msg);
	free(w);
}

size_t gate_ws_buffered(const struct gate_ws *w)
{
	if (w == NULL)
		return 0;
	return w->state == HANDSHAKE ? w->reqlen : w->msgcap;
}

int gate_ws_open(const struct gate_ws *w)
{
	return w->state != HANDSHAKE;
}

const char *gate_ws_error(const struct gate_ws *w)
{
	return w->why;
}

int gate_ws_close_code(const struct gate_ws *w)
{
	return w->close_code;
}

size_t gate_ws_frame_header(uint8_t hdr[10], enum gate_ws_opcode op, size_t len)
{
	hdr[0] = (uint8_t)(0x80 | op);
	if (len < 126) {
		hdr[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		hdr[1] = 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		return 4;
	}
	hdr[1] = 127;
	uint64_t v = len;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (uint8_t)(v >> (56 - 8 * i));
	return 10;
}

static uint8_t *control_frame(enum gate_ws_opcode op, const uint8_t *payload, size_t n, size_t *len)
{
	uint8_t *f = malloc(2 + n); /* n <= 125: the header is 2 bytes */
	if (f == NULL)
		return NULL;
	f[0] = (uint8_t)(0x80 | op);
	f[1] = (uint8_t)n;
	if (n > 0)
		memcpy(f + 2, payload, n);
	*len = 2 + n;
	return f;
}

uint8_t *gate_ws_close_frame(int code, const char *reason, size_t *len)
{
	uint8_t body[CONTROL_MAX];
	size_t n = 0;
	if (code > 0) {
		body[0] = (uint8_t)(code >> 8);
		body[1] = (uint8_t)code;
		n = 2;
		size_t r = reason ? strlen(reason) : 0;
		if (r > CONTROL_MAX - 2)
			r = CONTROL_MAX - 2;
		if (r > 0)
			// NOLINTNEXTLINE(bugprone-not-null-terminated-result): a frame body, not a C string
			memcpy(body + 2, reason, r);
		n += r;
	}
	return control_frame(GATE_WS_OP_CLOSE, body, n, len);
}

int gate_ws_utf8(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t more;
		uint32_t cp, min;
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1fu;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0fu;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07u;
			min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < more)
			return 0;
		for (size_t k = 1; k <= more; k++) {
			uint8_t d = p[i + k];
			if ((d & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (d & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += more + 1;
	}
	return 1;
}

/* ---- failing ---- */

/* Ends the connection with a close frame carrying `code`. */
static enum gate_ws_result fail(struct gate_ws *w, int code, const char *why, uint8_t **out, size_t *outlen)
{
	w->state = DONE;
	w->why = why;
	free(w->msg);
	w->msg = NULL;
	w->msglen = w->msgcap = 0;
	*out = gate_ws_close_frame(code, why, outlen);
	if (*out == NULL)
		*outlen = 0;
	return GATE_WS_ERROR;
}

/* Ends a connection still in its handshake with an HTTP error. */
static enum gate_ws_result fail_http(struct gate_ws *w, const char *status, const char *extra,
                                     const char *why, uint8_t **out, size_t *outlen)
{
	w->state = DONE;
	w->why = why;
	free(w->req);
	w->req = NULL;
	w->reqlen = 0;
	size_t cap = strlen(status) + strlen(extra) + 80;
	char *r = malloc(cap);
	*outlen = 0;
	if (r) {
		size_t n = 0;
		const char *parts[] = { "HTTP/1.1 ", status, "\r\n", extra,
			                "Connection: close\r\nContent-Length: 0\r\n\r\n" };
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			size_t k = strlen(parts[i]);
			memcpy(r + n, parts[i], k);
			n += k;
		}
		*outlen = n;
	}
	*out = (uint8_t *)r;
	return GATE_WS_ERROR;
}

/* ---- the handshake ---- */

static bool ieq(const uint8_t *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a[i], y = (uint8_t)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/* True when the comma-separated list at v (n bytes) holds `token` (any case). */
static bool has_token(const uint8_t *v, size_t n, const char *token)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && ieq(v + s, e - s, token))
			return true;
	}
	return false;
}

static bool b64char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

/* A Sec-WebSocket-Key: base64 of 16 bytes, i.e. 22 characters then "==". */
static bool good_key(const uint8_t *k, size_t n)
{
	if (n != 24 || k[22] != '=' || k[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (!b64char(k[i]))
			return false;
	return true;
}

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* The request in req[0..n) ends with its blank line: check it, answer it. */
static enum gate_ws_result answer_request(struct gate_ws *w, size_t n, uint8_t **out, size_t *outlen)
{
	const uint8_t *p = w->req;
	const uint8_t *end = p + n - 2; /* the final CRLF ends the last (empty) line */
	const uint8_t *eol = memchr(p, '\r', (size_t)(end - p));
	if (eol == NULL || eol[1] != '\n')
		return fail_http(w, "400 Bad Request", "", "malformed request line", out, outlen);
	size_t l = (size_t)(eol - p);
	static const char v11[] = " HTTP/1.1";
	if (l < 4 + sizeof(v11) - 1 || memcmp(p, "GET ", 4) != 0 ||
	    memcmp(eol - (sizeof(v11) - 1), v11, sizeof(v11) - 1) != 0)
		return fail_http(w, "400 Bad Request", "", "not a GET HTTP/1.1 request", out, outlen);
	bool upgrade = false, connection = false, version = false, badversion = false;
	const uint8_t *key = NULL;
	size_t keylen = 0;
	const uint8_t *line = eol + 2;
	while (line < end) {
		const uint8_t *e = memchr(line, '\r', (size_t)(end - line));
		if (e == NULL || e[1] != '\n')
			return fail_http(w, "400 Bad Request", "", "a header line without CRLF", out, outlen);
		const uint8_t *colon = memchr(line, ':', (size_t)(e - line));
		if (colon == NULL || colon == line)
			return fail_http(w, "400 Bad Request", "", "a header line without a name", out,
			                 outlen);
		const uint8_t *v = colon + 1, *ve = e;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t nl = (size_t)(colon - line), vl = (size_t)(ve - v);
		if (ieq(line, nl, "upgrade")) {
			upgrade = upgrade || has_token(v, vl, "websocket");
		} else if (ieq(line, nl, "connection")) {
			connection = connection || has_token(v, vl, "upgrade");
		} else if (ieq(line, nl, "sec-websocket-version")) {
			if (vl == 2 && v[0] == '1' && v[1] == '3')
				version = true;
			else
				badversion = true;
		} else if (ieq(line, nl, "sec-websocket-key")) {
			if (key != NULL)
				return fail_http(w, "400 Bad Request", "", "two Sec-WebSocket-Key headers",
				                 out, outlen);
			key = v;
			keylen = vl;
		}
		line = e + 2;
	}
	if (!upgrade || !connection)
		return fail_http(w, "400 Bad Request", "", "no Upgrade: websocket / Connection: upgrade", out,
		                 outlen);
	if (!version || badversion)
		return fail_http(w, "426 Upgrade Required", "Sec-WebSocket-Version: 13\r\n",
		                 "Sec-WebSocket-Version is not 13", out, outlen);
	if (key == NULL || !good_key(key, keylen))
		return fail_http(w, "400 Bad Request", "", "no valid Sec-WebSocket-Key", out, outlen);

	struct skiff_sha1 h;
	uint8_t digest[SKIFF_SHA1_SIZE];
	skiff_sha1_init(&h);
	skiff_sha1_update(&h, key, keylen);
	skiff_sha1_update(&h, GUID, sizeof(GUID) - 1);
	skiff_sha1_final(&h, digest);
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\nSec-WebSocket-Accept: ";
	size_t hl = sizeof(head) - 1, al = SKIFF_BASE64_SIZE(sizeof(digest));
	uint8_t *r = malloc(hl + al + 4);
	if (r == NULL)
		return fail_http(w, "500 Internal Server Error", "", "out of memory", out, outlen);
	memcpy(r, head, hl);
	skiff_base64_encode(digest, sizeof(digest), (char *)r + hl);
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result): HTTP bytes, not a C string
	memcpy(r + hl + al, "\r\n\r\n", 4);
	free(w->req);
	w->req = NULL;
	w->reqlen = 0;
	w->state = FRAMES;
	*out = r;
	*outlen = hl + al + 4;
	return GATE_WS_REPLY;
}

static enum gate_ws_result read_request(struct gate_ws *w, const uint8_t **data, size_t *sz, uint8_t **out,
                                        size_t *outlen)
{
	size_t room = GATE_WS_MAX_REQUEST - w->reqlen;
	size_t take = *sz < room ? *sz : room;
	if (take == 0 && *sz > 0)
		return fail_http(w, "431 Request Header Fields Too Large", "",
		                 "handshake request over 8192 bytes", out, outlen);
	uint8_t *nr = realloc(w->req, w->reqlen + take + 1);
	if (nr == NULL)
		return fail_http(w, "500 Internal Server Error", "", "out of memory", out, outlen);
	w->req = nr;
	/* look for the blank line from where it could start */
	size_t from = w->reqlen > 3 ? w->reqlen - 3 : 0;
	memcpy(w->req + w->reqlen, *data, take);
	size_t total = w->reqlen + take;
	for (size_t i = from; i + 4 <= total; i++) {
		if (memcmp(w->req + i, "\r\n\r\n", 4) == 0) {
			size_t used = i + 4 - w->reqlen;
			*data += used;
			*sz -= used;
			w->reqlen = i + 4;
			return answer_request(w, i + 4, out, outlen);
		}
	}
	w->reqlen = total;
	*data += take;
	*sz -= take;
	if (w->reqlen >= GATE_WS_MAX_REQUEST)
		return fail_http(w, "431 Request Header Fields Too Large", "",
		                 "handshake request over 8192 bytes", out, outlen);
	return GATE_WS_NEED;
}

/* ---- frames ---- */

static bool valid_close_code(int c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

/* The first two header bytes are in: check them, say how long the header is. */
static enum gate_ws_result check_head(struct gate_ws *w, uint8_t **out, size_t *outlen)
{
	uint8_t b0 = w->hdr[0], b1 = w->hdr[1];
	uint8_t op = b0 & 0x0f;
	w->fin = (b0 & 0x80) != 0;
	w->op = op;
	if (b0 & 0x70)
		return fail(w, 1002, "reserved bits set (no extension was agreed)", out, outlen);
	if (!(b1 & 0x80))
		return fail(w, 1002, "unmasked frame from a client", out, outlen);
	uint8_t len7 = b1 & 0x7f;
	if (op >= 8) {
		if (op > GATE_WS_PONG)
			return fail(w, 1002, "unknown control opcode", out, outlen);
		if (!w->fin)
			return fail(w, 1002, "fragmented control frame", out, outlen);
		if (len7 > CONTROL_MAX)
			return fail(w, 1002, "control frame over 125 bytes", out, outlen);
	} else if (op == GATE_WS_CONTINUATION) {
		if (w->msg_op == 0)
			return fail(w, 1002, "continuation frame with no message open", out, outlen);
	} else if (op == GATE_WS_TEXT || op == GATE_WS_BINARY) {
		if (w->msg_op != 0)
			return fail(w, 1002, "new message before the last one's final fragment", out, outlen);
	} else {
		return fail(w, 1002, "unknown data opcode", out, outlen);
	}
	w->hdrneed = (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4);
	return GATE_WS_NEED;
}

/* The whole header is in: take the length and the key. */
static enum gate_ws_result start_payload(struct gate_ws *w, uint8_t **out, size_t *outlen)
{
	uint8_t len7 = w->hdr[1] & 0x7f;
	uint64_t len = len7;
	if (len7 == 126) {
		len = (uint64_t)w->hdr[2] << 8 | w->hdr[3];
	} else if (len7 == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | w->hdr[2 + i];
		if (len >> 63)
			return fail(w, 1002, "frame length with the top bit set", out, outlen);
	}
	if (w->op < 8) {
		if (len >= (uint64_t)(w->max_message - w->msglen))
			return fail(w, 1009, "message at or over the gate's max_packet", out, outlen);
		if (w->op != GATE_WS_CONTINUATION) {
			w->msg_op = w->op;
			w->msglen = 0;
		}
	}
	w->remaining = len;
	w->keypos = 0;
	w->ctllen = 0;
	return GATE_WS_NEED;
}

static bool grow_message(struct gate_ws *w, size_t need)
{
	if (need <= w->msgcap)
		return true;
	if (need > w->max_message) /* callers refuse such a message first; never grow short */
		return false;
	size_t cap = w->msgcap * 2;
	if (cap < need)
		cap = need;
	if (cap > w->max_message)
		cap = w->max_message;
	uint8_t *m = realloc(w->msg, cap);
	if (m == NULL)
		return false;
	w->msg = m;
	w->msgcap = cap;
	return true;
}

static void unmask(struct gate_ws *w, uint8_t *dst, const uint8_t *src, size_t n)
{
	const uint8_t *key = w->hdr + w->hdrneed - 4;
	unsigned k = w->keypos;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] ^ key[(k + i) & 3];
	w->keypos = (uint8_t)((k + n) & 3);
}

/* A control frame is whole. */
static enum gate_ws_result on_control(struct gate_ws *w, uint8_t **out, size_t *outlen)
{
	if (w->op == GATE_WS_PONG)
		return GATE_WS_NEED;
	if (w->op == GATE_WS_PING) {
		*out = control_frame(GATE_WS_PONG, w->ctl, w->ctllen, outlen);
		if (*out == NULL)
			return fail(w, 1011, "out of memory", out, outlen);
		return GATE_WS_REPLY;
	}
	/* close */
	if (w->ctllen == 1)
		return fail(w, 1002, "close frame with a 1-byte body", out, outlen);
	int code = 1005;
	if (w->ctllen >= 2) {
		code = w->ctl[0] << 8 | w->ctl[1];
		if (!valid_close_code(code))
			return fail(w, 1002, "close frame with an invalid status code", out, outlen);
		if (!gate_ws_utf8(w->ctl + 2, (size_t)w->ctllen - 2))
			return fail(w, 1007, "close reason is not UTF-8", out, outlen);
	}
	w->close_code = code;
	w->state = DONE;
	w->why = "closed by the client";
	free(w->msg);
	w->msg = NULL;
	w->msglen = w->msgcap = 0;
	/* echo the code (RFC 6455 §5.5.1); an empty close is answered empty */
	*out = gate_ws_close_frame(code == 1005 ? 0 : code, NULL, outlen);
	if (*out == NULL)
		*outlen = 0;
	return GATE_WS_CLOSE;
}

/* A data frame is whole; with fin its message is too. */
static enum gate_ws_result on_data_end(struct gate_ws *w, uint8_t **out, size_t *outlen)
{
	if (!w->fin)
		return GATE_WS_NEED;
	if (w->msg_op == GATE_WS_TEXT && !gate_ws_utf8(w->msg, w->msglen))
		return fail(w, 1007, "text message is not UTF-8", out, outlen);
	if (w->msg == NULL && !grow_message(w, 1)) /* an empty message still owns a byte */
		return fail(w, 1011, "out of memory", out, outlen);
	*out = w->msg;
	*outlen = w->msglen;
	w->msg = NULL;
	w->msglen = w->msgcap = 0;
	w->msg_op = 0;
	return GATE_WS_MESSAGE;
}

static enum gate_ws_result read_frames(struct gate_ws *w, const uint8_t **data, size_t *sz, uint8_t **out,
                                       size_t *outlen)
{
	while (*sz > 0 || (w->hdrlen == w->hdrneed && w->remaining == 0)) {
		if (w->hdrlen < w->hdrneed) {
			size_t take = (size_t)(w->hdrneed - w->hdrlen);
			if (take > *sz)
				take = *sz;
			memcpy(w->hdr + w->hdrlen, *data, take);
			w->hdrlen = (uint8_t)(w->hdrlen + take);
			*data += take;
			*sz -= take;
			if (w->hdrlen == 2 && w->hdrneed == 2) {
				enum gate_ws_result r = check_head(w, out, outlen);
				if (r != GATE_WS_NEED)
					return r;
				continue;
			}
			if (w->hdrlen < w->hdrneed)
				return GATE_WS_NEED;
			enum gate_ws_result r = start_payload(w, out, outlen);
			if (r != GATE_WS_NEED)
				return r;
			continue;
		}
		size_t take = w->remaining < *sz ? (size_t)w->remaining : *sz;
		if (take > 0) {
			if (w->op >= 8) {
				unmask(w, w->ctl + w->ctllen, *data, take);
				w->ctllen = (uint8_t)(w->ctllen + take);
			} else {
				if (!grow_message(w, w->msglen + take))
					return fail(w, 1011, "out of memory", out, outlen);
				unmask(w, w->msg + w->msglen, *data, take);
				w->msglen += take;
			}
			*data += take;
			*sz -= take;
			w->remaining -= take;
		}
		if (w->remaining > 0)
			return GATE_WS_NEED;
		/* the frame is whole: the next one starts with a fresh header */
		w->hdrlen = 0;
		w->hdrneed = 2;
		enum gate_ws_result r = w->op >= 8 ? on_control(w, out, outlen) : on_data_end(w, out, outlen);
		if (r != GATE_WS_NEED)
			return r;
	}
	return GATE_WS_NEED;
}

enum gate_ws_result gate_ws_next(struct gate_ws *w, const uint8_t **data, size_t *sz, uint8_t **out,
                                 size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (w->state == HANDSHAKE) {
		if (*sz == 0)
			return GATE_WS_NEED;
		enum gate_ws_result r = read_request(w, data, sz, out, outlen);
		if (r != GATE_WS_NEED || w->state != FRAMES)
			return r;
	}
	if (w->state == DONE) {
		*data += *sz;
		*sz = 0;
		return GATE_WS_NEED;
	}
	return read_frames(w, data, sz, out, outlen);
}
