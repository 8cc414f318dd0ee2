/*
 * gate_ws.h — one WebSocket connection of the C gate (RFC 6455), as a pure
 * state machine: bytes from the client in, whole messages and bytes for the
 * client out.  No sockets, no runtime: the gate (service_gate.c) feeds each
 * socket read, and tests/fuzz drives the same code alone.
 *
 * Stream grammar (client to server):
 *   request = "GET" SP target SP "HTTP/1.1" CRLF *(header CRLF) CRLF
 *             (at most GATE_WS_MAX_REQUEST bytes; needs Upgrade: websocket,
 *             Connection: upgrade, Sec-WebSocket-Version: 13 and a
 *             Sec-WebSocket-Key that is 16 bytes in base64)
 *   then      frame*
 *   frame   = fin:1 rsv:3(=0) opcode:4 mask:1(=1) len:7 [len16|len64] key:4 payload
 * A data message is a text (1) or binary (2) frame followed by continuation
 * frames (0) up to one with fin set; control frames (close 8, ping 9, pong
 * 10) have fin set, at most 125 bytes, and may come between the fragments.
 *
 * Each call to gate_ws_next yields one event:
 *   GATE_WS_REPLY    bytes to write to the client (the 101 response, a pong)
 *   GATE_WS_MESSAGE  one whole data message, unmasked (text is valid UTF-8)
 *   GATE_WS_CLOSE    the client closed: write the reply (our close frame,
 *                    echoing its code) and then close the socket
 *   GATE_WS_ERROR    a protocol error: write the reply (an HTTP error for a
 *                    bad handshake, else a close frame with 1002, 1007 or
 *                    1009), close the socket; gate_ws_error() says why
 *   GATE_WS_NEED     the input is used up
 * After CLOSE or ERROR the connection takes nothing more (every later call
 * returns GATE_WS_NEED and consumes the input).
 *
 * Ownership: *out is malloc'd and becomes the caller's (the gate hands it on
 * to the socket layer or to an agent without copying); *out is NULL when
 * *outlen is 0.  Memory: an unfinished message holds the bytes that arrived
 * (at most twice them, as its buffer doubles), never what a header
 * announced; a message of max_message bytes or more is refused (1009).
 */
#ifndef SKIFF_GATE_WS_H
#define SKIFF_GATE_WS_H

#include <stddef.h>
#include <stdint.h>

#define GATE_WS_MAX_REQUEST 8192 /* the handshake request, headers included */
#define GATE_WS_MAX_HEADER 14    /* the longest frame header: 2 + 8 + 4 */

enum gate_ws_result {
	GATE_WS_NEED = 0,
	GATE_WS_MESSAGE = 1,
	GATE_WS_REPLY = 2,
	GATE_WS_CLOSE = 3,
	GATE_WS_ERROR = -1,
};

enum gate_ws_opcode {
	GATE_WS_CONTINUATION = 0,
	GATE_WS_TEXT = 1,
	GATE_WS_BINARY = 2,
	GATE_WS_OP_CLOSE = 8,
	GATE_WS_PING = 9,
	GATE_WS_PONG = 10,
};

struct gate_ws; /* one connection's handshake or frame state */

/* max_message (> 0): the first refused message size.  NULL when out of memory. */
struct gate_ws *gate_ws_new(size_t max_message);
/* Frees any unfinished message too; accepts NULL. */
void gate_ws_free(struct gate_ws *w);

/* Bytes held for the request or message being read; accepts NULL. */
size_t gate_ws_buffered(const struct gate_ws *w);
/* True once the handshake succeeded (its 101 reply was returned). */
int gate_ws_open(const struct gate_ws *w);
/* Why the connection failed or closed ("" when it did not): a static or
 * per-connection string, valid until the next call or gate_ws_free. */
const char *gate_ws_error(const struct gate_ws *w);
/* The status code of the client's close frame (1005 when it had none, 0
 * before a close). */
int gate_ws_close_code(const struct gate_ws *w);

/* Consumes bytes from *data / *sz (both advanced past what was used) until
 * one event is ready or the input ends; see the events above. */
enum gate_ws_result gate_ws_next(struct gate_ws *w, const uint8_t **data, size_t *sz, uint8_t **out,
                                 size_t *outlen);

/* The header of an unmasked server frame with fin set: writes 2, 4 or 10
 * bytes to hdr and returns how many. */
size_t gate_ws_frame_header(uint8_t hdr[10], enum gate_ws_opcode op, size_t len);
/* A whole close frame (code, reason cut to fit 125 bytes), malloc'd; NULL
 * when out of memory. */
uint8_t *gate_ws_close_frame(int code, const char *reason, size_t *len);

/* True when n bytes at p are well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing over U+10FFFF). */
int gate_ws_utf8(const uint8_t *p, size_t n);

#endif
