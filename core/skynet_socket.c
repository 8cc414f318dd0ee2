/*
 * skynet_socket.c — the socket server seen from services.
 *
 * The calling context's handle is the owner of what it creates. Events become
 * PTYPE_SOCKET messages (source 0, session 0) pushed straight into the owner's
 * queue; when the owner is gone the event and its data are dropped here.
 */
#include "skynet_socket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "skynet.h"
#include "skynet_handle.h"
#include "skynet_mq.h"
#include "skynet_ratelog.h"
#include "skynet_server.h"
#include "socket_server.h"

#define MAX_PADDING 128
/* Accept back-off: a listener whose owner has this many messages waiting
 * accepts nothing more for ACCEPT_BUSY_PAUSE_MS. */
#define ACCEPT_QUEUE_HIGH 128
#define ACCEPT_BUSY_PAUSE_MS 10

static struct socket_server *SOCKET_SERVER = NULL;
/* Accept shortages, logged by the socket thread alone. */
static struct skynet_ratelog ACCEPT_LOG = { .what = "socket: accept paused (out of descriptors)",
	                                    .burst = SKYNET_RATELOG_BURST,
	                                    .window_ms = SKYNET_RATELOG_WINDOW_MS };

static unsigned long long FD_LIMIT, FD_LIMIT_WAS;

/* Every connection costs a descriptor: take all the hard limit allows, so a
 * flood meets the pre-auth limits (which are sized from this) before EMFILE. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	FD_LIMIT = FD_LIMIT_WAS = (unsigned long long)rl.rlim_cur;
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		FD_LIMIT = (unsigned long long)rl.rlim_cur;
}

unsigned long long skynet_fd_limit(void)
{
	return FD_LIMIT;
}

void skynet_socket_log_limits(void)
{
	if (FD_LIMIT != FD_LIMIT_WAS)
		skynet_error(NULL, "skiff: file descriptor limit %llu (raised from %llu)", FD_LIMIT,
		             FD_LIMIT_WAS);
	else
		skynet_error(NULL, "skiff: file descriptor limit %llu", FD_LIMIT);
}

void skynet_socket_init(void)
{
	raise_fd_limit();
	SOCKET_SERVER = socket_server_create(skynet_now());
	if (SOCKET_SERVER == NULL) {
		/* no epoll/eventfd: nothing can run without the socket thread */
		fprintf(stderr, "skiff: can't create the socket server: %s\n", strerror(errno));
		exit(1);
	}
	socket_server_clock(SOCKET_SERVER, skynet_now);
}

void skynet_socket_exit(void)
{
	socket_server_exit(SOCKET_SERVER);
}

void skynet_socket_free(void)
{
	socket_server_release(SOCKET_SERVER);
	SOCKET_SERVER = NULL;
}

void skynet_socket_updatetime(void)
{
	socket_server_updatetime(SOCKET_SERVER, skynet_now());
}

/* `padding`: result->data is a string to copy after the struct, not a buffer to hand on. */
static void forward_message(int type, bool padding, struct socket_message *result)
{
	size_t len = 0;
	if (padding && result->data) {
		len = strlen(result->data);
		if (len > MAX_PADDING)
			len = MAX_PADDING;
	}
	size_t sz = sizeof(struct skynet_socket_message) + len;
	struct skynet_socket_message *sm = skynet_malloc(sz + 1);
	sm->type = type;
	sm->id = result->id;
	sm->ud = result->ud;
	if (padding) {
		sm->buffer = NULL;
		char *tail = (char *)(sm + 1);
		if (len)
			memcpy(tail, result->data, len);
		tail[len] = '\0';
	} else {
		sm->buffer = result->data;
	}
	struct skynet_message message;
	message.source = 0;
	message.session = 0;
	message.data = sm;
	message.sz = sz | ((size_t)PTYPE_SOCKET << MESSAGE_TYPE_SHIFT);
	if (skynet_context_push((uint32_t)result->opaque, &message)) {
		/* the owner has gone: nobody will free these */
		skynet_free(sm->buffer);
		skynet_free(sm);
	}
}

void skynet_message_drop_payload(const struct skynet_message *msg)
{
	if ((msg->sz >> MESSAGE_TYPE_SHIFT) == PTYPE_SOCKET && msg->data) {
		const struct skynet_socket_message *sm = msg->data;
		skynet_free(sm->buffer);
	}
	skynet_free(msg->data);
}

/* Accepting faster than the owner reads only queues connections in front of
 * the traffic of its established ones (a harbor's heartbeats): once the owner
 * is behind, the listener waits and new connections wait in the kernel's
 * backlog, where they cost the owner nothing. */
static void accept_backoff(const struct socket_message *r)
{
	struct skynet_context *ctx = skynet_handle_grab((uint32_t)r->opaque);
	if (ctx == NULL)
		return;
	int waiting = skynet_context_mqlen(ctx);
	skynet_context_release(ctx);
	if (waiting >= ACCEPT_QUEUE_HIGH)
		socket_server_accept_backoff(SOCKET_SERVER, r->id, ACCEPT_BUSY_PAUSE_MS);
}

int skynet_socket_poll(void)
{
	struct socket_server *ss = SOCKET_SERVER;
	struct socket_message result;
	int more = 1;
	skynet_ratelog_flush(NULL, &ACCEPT_LOG);
	int type = socket_server_poll(ss, &result, &more);
	switch (type) {
	case SOCKET_EXIT: return 0;
	case SOCKET_DATA: forward_message(SKYNET_SOCKET_TYPE_DATA, false, &result); break;
	case SOCKET_CLOSE: forward_message(SKYNET_SOCKET_TYPE_CLOSE, false, &result); break;
	case SOCKET_OPEN: forward_message(SKYNET_SOCKET_TYPE_CONNECT, true, &result); break;
	case SOCKET_ERR: forward_message(SKYNET_SOCKET_TYPE_ERROR, true, &result); break;
	case SOCKET_ACCEPT:
		forward_message(SKYNET_SOCKET_TYPE_ACCEPT, true, &result);
		accept_backoff(&result);
		break;
	case SOCKET_UDP: forward_message(SKYNET_SOCKET_TYPE_UDP, false, &result); break;
	case SOCKET_WARNING: forward_message(SKYNET_SOCKET_TYPE_WARNING, false, &result); break;
	case SOCKET_ACCEPT_PAUSED:
		/* the listener stays valid: its owner has nothing to do, the operator
		 * has (raise the fd limit, lower preauth_max) */
		skynet_ratelog(NULL, &ACCEPT_LOG,
		               "socket: listen socket %d of :%08x cannot accept: %s; "
		               "accepts paused for %d ms (fd limit %llu)",
		               result.id, (uint32_t)result.opaque, result.data ? result.data : "", result.ud,
		               skynet_fd_limit());
		break;
	default: skynet_error(NULL, "error: unknown socket message type %d", type); return -1;
	}
	return 1;
}

int skynet_socket_sendbuffer(struct skynet_context *ctx, struct socket_sendbuffer *buffer)
{
	(void)ctx;
	return socket_server_send(SOCKET_SERVER, buffer);
}

int skynet_socket_sendbuffer_lowpriority(struct skynet_context *ctx, struct socket_sendbuffer *buffer)
{
	(void)ctx;
	return socket_server_send_lowpriority(SOCKET_SERVER, buffer);
}

int skynet_socket_listen(struct skynet_context *ctx, const char *host, int port, int backlog)
{
	return socket_server_listen(SOCKET_SERVER, skynet_context_handle(ctx), host, port, backlog);
}

int skynet_socket_listen_unix(struct skynet_context *ctx, const char *path, int backlog)
{
	return socket_server_listen_unix(SOCKET_SERVER, skynet_context_handle(ctx), path, backlog);
}

int skynet_socket_connect(struct skynet_context *ctx, const char *host, int port)
{
	return socket_server_connect(SOCKET_SERVER, skynet_context_handle(ctx), host, port);
}

int skynet_socket_bind(struct skynet_context *ctx, int fd)
{
	return socket_server_bind(SOCKET_SERVER, skynet_context_handle(ctx), fd);
}

void skynet_socket_close(struct skynet_context *ctx, int id)
{
	socket_server_close(SOCKET_SERVER, skynet_context_handle(ctx), id);
}

void skynet_socket_shutdown(struct skynet_context *ctx, int id)
{
	socket_server_shutdown(SOCKET_SERVER, skynet_context_handle(ctx), id);
}

void skynet_socket_start(struct skynet_context *ctx, int id)
{
	socket_server_start(SOCKET_SERVER, skynet_context_handle(ctx), id);
}

void skynet_socket_pause(struct skynet_context *ctx, int id)
{
	socket_server_pause(SOCKET_SERVER, skynet_context_handle(ctx), id);
}

void skynet_socket_nodelay(struct skynet_context *ctx, int id)
{
	(void)ctx;
	socket_server_nodelay(SOCKET_SERVER, id);
}

int skynet_socket_udp(struct skynet_context *ctx, const char *addr, int port)
{
	return socket_server_udp(SOCKET_SERVER, skynet_context_handle(ctx), addr, port);
}

int skynet_socket_udp_connect(struct skynet_context *ctx, int id, const char *addr, int port)
{
	(void)ctx;
	return socket_server_udp_connect(SOCKET_SERVER, id, addr, port);
}

int skynet_socket_udp_dial(struct skynet_context *ctx, const char *addr, int port)
{
	return socket_server_udp_dial(SOCKET_SERVER, skynet_context_handle(ctx), addr, port);
}

int skynet_socket_udp_listen(struct skynet_context *ctx, const char *addr, int port)
{
	return socket_server_udp_listen(SOCKET_SERVER, skynet_context_handle(ctx), addr, port);
}

int skynet_socket_udp_sendbuffer(struct skynet_context *ctx, const char *address,
                                 struct socket_sendbuffer *buffer)
{
	(void)ctx;
	return socket_server_udp_send(SOCKET_SERVER, (const struct socket_udp_address *)address, buffer);
}

const char *skynet_socket_udp_address(struct skynet_socket_message *msg, int *addrsz)
{
	if (msg->type != SKYNET_SOCKET_TYPE_UDP)
		return NULL;
	struct socket_message sm;
	sm.id = msg->id;
	sm.opaque = 0;
	sm.ud = msg->ud;
	sm.data = msg->buffer;
	return (const char *)socket_server_udp_address(SOCKET_SERVER, &sm, addrsz);
}

struct socket_info *skynet_socket_info(void)
{
	return socket_server_info(SOCKET_SERVER);
}

uint64_t skynet_socket_read_age_ms(int id)
{
	/* socket time is skynet_now(), in centiseconds */
	uint64_t t = socket_server_rtime(SOCKET_SERVER, id);
	uint64_t now = skynet_now();
	if (t == 0)
		return UINT64_MAX;
	return now > t ? (now - t) * 10 : 0;
}
