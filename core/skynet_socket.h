/*
 * skynet_socket.h — sockets for services.
 *
 * One socket thread owns every socket. Services ask it for things (listen, connect,
 * start, close, send, ...) and it answers with PTYPE_SOCKET messages (source 0,
 * session 0) whose payload is a struct skynet_socket_message. The owner of a socket
 * is the service that created it, or the last one that called skynet_socket_start.
 *
 * Payload layout: the struct, then, when `buffer` is NULL, an optional padding
 * string (at most 128 bytes, NUL-terminated; the message size excludes the NUL):
 *   DATA     ud = byte count, buffer = the bytes (the receiver frees them)
 *   CONNECT  ud = bound port for a listen socket, else 0; padding = peer or bound IP,
 *            or "start" / "transfer" / "binding"
 *   CLOSE    at most once per socket
 *   ACCEPT   id = the listen socket, ud = the new connection's id, padding "ip:port";
 *            the new connection reads nothing until someone starts it
 *   ERROR    padding = what went wrong
 *   UDP      ud = payload size, buffer = payload followed by the sender's address
 *   WARNING  ud = KiB waiting to be sent (0: the backlog drained)
 *
 * Every send function takes ownership of the buffer as socket_buffer.h says and
 * returns 0, or -1 when the socket is not valid (the buffer is then released).
 */
#ifndef SKYNET_SOCKET_H
#define SKYNET_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "socket_buffer.h"

struct skynet_message;

struct skynet_context;

#define SKYNET_SOCKET_TYPE_DATA 1
#define SKYNET_SOCKET_TYPE_CONNECT 2
#define SKYNET_SOCKET_TYPE_CLOSE 3
#define SKYNET_SOCKET_TYPE_ACCEPT 4
#define SKYNET_SOCKET_TYPE_ERROR 5
#define SKYNET_SOCKET_TYPE_UDP 6
#define SKYNET_SOCKET_TYPE_WARNING 7

struct skynet_socket_message {
	int type;
	int id;
	int ud;
	char *buffer;
};

/* One entry of skynet_socket_info(); the list is freed with socket_info_release. */
#define SOCKET_INFO_UNKNOWN 0
#define SOCKET_INFO_LISTEN 1
#define SOCKET_INFO_TCP 2
#define SOCKET_INFO_UDP 3
#define SOCKET_INFO_BIND 4
#define SOCKET_INFO_CLOSING 5

struct socket_info {
	int id;
	int type;
	uint64_t opaque;
	uint64_t read;
	uint64_t write;
	uint64_t rtime;
	uint64_t wtime;
	int64_t wbuffer;
	uint8_t reading;
	uint8_t writing;
	char name[128];
	struct socket_info *next;
};

void socket_info_release(struct socket_info *si);

/* Used by the runtime (skynet_start.c). */
/* Also raises the soft RLIMIT_NOFILE to the hard limit. */
void skynet_socket_init(void);
/* The descriptor limit in force after skynet_socket_init, and a log line saying so. */
unsigned long long skynet_fd_limit(void);
void skynet_socket_log_limits(void);
void skynet_socket_exit(void);
void skynet_socket_free(void);
void skynet_socket_updatetime(void);
/* Frees the payload of a message that will never be dispatched (its service is
 * gone): a PTYPE_SOCKET message also owns the buffer it points to. */
void skynet_message_drop_payload(const struct skynet_message *msg);
int skynet_socket_poll(void); /* 0 exit, 1 delivered an event, -1 nothing delivered */

int skynet_socket_sendbuffer(struct skynet_context *ctx, struct socket_sendbuffer *buffer);
int skynet_socket_sendbuffer_lowpriority(struct skynet_context *ctx, struct socket_sendbuffer *buffer);
int skynet_socket_listen(struct skynet_context *ctx, const char *host, int port, int backlog);
int skynet_socket_connect(struct skynet_context *ctx, const char *host, int port);
/* A Unix-domain listen socket at `path`, created mode 0600; accepted peers are
 * reported as "unix uid=U pid=P". */
int skynet_socket_listen_unix(struct skynet_context *ctx, const char *path, int backlog);
int skynet_socket_bind(struct skynet_context *ctx, int fd);
void skynet_socket_close(struct skynet_context *ctx, int id);
void skynet_socket_shutdown(struct skynet_context *ctx, int id);
void skynet_socket_start(struct skynet_context *ctx, int id);
void skynet_socket_pause(struct skynet_context *ctx, int id);
void skynet_socket_nodelay(struct skynet_context *ctx, int id);

int skynet_socket_udp(struct skynet_context *ctx, const char *addr, int port);
int skynet_socket_udp_connect(struct skynet_context *ctx, int id, const char *addr, int port);
int skynet_socket_udp_dial(struct skynet_context *ctx, const char *addr, int port);
int skynet_socket_udp_listen(struct skynet_context *ctx, const char *addr, int port);
int skynet_socket_udp_sendbuffer(struct skynet_context *ctx, const char *address,
                                 struct socket_sendbuffer *buffer);
/* The sender's address inside a UDP message, and its size in *addrsz; NULL if none. */
const char *skynet_socket_udp_address(struct skynet_socket_message *msg, int *addrsz);

struct socket_info *skynet_socket_info(void);

/* Milliseconds since bytes last reached socket `id` (read by the socket thread,
 * whether or not its owner has handled them yet), UINT64_MAX if `id` is not an
 * open socket.  A service behind on its queue uses it to tell a silent peer
 * from one whose data is still waiting in the queue.  Any thread, no lock. */
uint64_t skynet_socket_read_age_ms(int id);

/* Legacy helpers: `buffer` came from skynet_malloc and is owned by the socket layer. */
static inline void sendbuffer_init_(struct socket_sendbuffer *buf, int id, const void *buffer, int sz)
{
	buf->id = id;
	buf->buffer = buffer;
	if (sz < 0) {
		buf->type = SOCKET_BUFFER_OBJECT;
		buf->sz = 0;
	} else {
		buf->type = SOCKET_BUFFER_MEMORY;
		buf->sz = (size_t)sz;
	}
}

static inline int skynet_socket_send(struct skynet_context *ctx, int id, void *buffer, int sz)
{
	struct socket_sendbuffer tmp;
	sendbuffer_init_(&tmp, id, buffer, sz);
	return skynet_socket_sendbuffer(ctx, &tmp);
}

static inline int skynet_socket_send_lowpriority(struct skynet_context *ctx, int id, void *buffer, int sz)
{
	struct socket_sendbuffer tmp;
	sendbuffer_init_(&tmp, id, buffer, sz);
	return skynet_socket_sendbuffer_lowpriority(ctx, &tmp);
}

static inline int skynet_socket_udp_send(struct skynet_context *ctx, int id, const char *address,
                                         const void *buffer, int sz)
{
	struct socket_sendbuffer tmp;
	sendbuffer_init_(&tmp, id, buffer, sz);
	return skynet_socket_udp_sendbuffer(ctx, address, &tmp);
}

#endif
