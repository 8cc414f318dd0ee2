/*
 * socket_server.h — the socket thread's engine (epoll), independent of services.
 *
 * Threads: socket_server_poll runs on exactly one thread (the socket thread). Every
 * other function may be called from any thread; except for the listen/UDP socket
 * creation done in the caller and the direct write below, they only queue a request
 * that the socket thread carries out before it next waits for I/O.
 *
 * Direct write: a send on a connected TCP socket with nothing queued and nothing in
 * flight is written by the calling thread at once (never blocking); what the kernel
 * does not take is left for the socket thread, which sends it before anything queued
 * later, so packets never interleave.
 *
 * `opaque` is the owner (a service handle in Skiff); events carry it back.
 */
#ifndef SKYNET_SOCKET_SERVER_H
#define SKYNET_SOCKET_SERVER_H

#include <stdint.h>

#include "skynet_socket.h"
#include "socket_buffer.h"

/* socket_server_poll results */
#define SOCKET_DATA 0
#define SOCKET_CLOSE 1
#define SOCKET_OPEN 2
#define SOCKET_ACCEPT 3
#define SOCKET_ERR 4
#define SOCKET_EXIT 5
#define SOCKET_UDP 6
#define SOCKET_WARNING 7
/* A listen socket ran out of descriptors (EMFILE/ENFILE, no buffers, or no
 * free socket slot): one waiting connection was shed and the listener stops
 * accepting for `ud` ms (data: why).  The listener itself stays valid, so
 * this is for the log, not for its owner. */
#define SOCKET_ACCEPT_PAUSED 8

/*
 * One event. `data` is:
 *   SOCKET_DATA / SOCKET_UDP   a skynet_malloc'd buffer the receiver now owns
 *                              (UDP: payload of `ud` bytes, then the sender address)
 *   SOCKET_OPEN / ACCEPT / ERR / ACCEPT_PAUSED
 *                              a NUL-terminated string valid until the next poll
 *   otherwise                  NULL
 */
struct socket_message {
	int id;
	uintptr_t opaque;
	int ud;
	char *data;
};

struct socket_server;

struct socket_server *socket_server_create(uint64_t time);
void socket_server_release(struct socket_server *ss); /* accepts NULL */
void socket_server_updatetime(struct socket_server *ss, uint64_t time);
/* The poll thread sets the time from clock() after each wait for events. */
void socket_server_clock(struct socket_server *ss, uint64_t (*clock)(void));
/* Blocks until there is something to report; returns a SOCKET_* code. */
int socket_server_poll(struct socket_server *ss, struct socket_message *result, int *more);

/* Socket thread only (between polls): listen socket `id` accepts nothing for
 * `ms` (waiting connections stay in the kernel's backlog). */
void socket_server_accept_backoff(struct socket_server *ss, int id, uint32_t ms);

void socket_server_exit(struct socket_server *ss);
void socket_server_close(struct socket_server *ss, uintptr_t opaque, int id);
void socket_server_shutdown(struct socket_server *ss, uintptr_t opaque, int id);
void socket_server_start(struct socket_server *ss, uintptr_t opaque, int id);
void socket_server_pause(struct socket_server *ss, uintptr_t opaque, int id);
void socket_server_nodelay(struct socket_server *ss, int id);

/* 0 on success, -1 if the id is not a live socket (the buffer is released). */
int socket_server_send(struct socket_server *ss, struct socket_sendbuffer *buffer);
int socket_server_send_lowpriority(struct socket_server *ss, struct socket_sendbuffer *buffer);

/* Return a socket id, or -1. Listen binds in the caller so errors surface at once. */
int socket_server_listen(struct socket_server *ss, uintptr_t opaque, const char *addr, int port, int backlog);
int socket_server_connect(struct socket_server *ss, uintptr_t opaque, const char *addr, int port);
/* A Unix-domain listen socket at `path`, mode 0600 (socket_unix.h): an id, or -1. */
int socket_server_listen_unix(struct socket_server *ss, uintptr_t opaque, const char *path, int backlog);
int socket_server_bind(struct socket_server *ss, uintptr_t opaque, int fd);

/* UDP. An address is 1 byte protocol, 2 bytes port (network order), 4 or 16 bytes IP. */
#define UDP_ADDRESS_SIZE 19
struct socket_udp_address;
int socket_server_udp(struct socket_server *ss, uintptr_t opaque, const char *addr, int port);
int socket_server_udp_connect(struct socket_server *ss, int id, const char *addr, int port);
int socket_server_udp_dial(struct socket_server *ss, uintptr_t opaque, const char *addr, int port);
int socket_server_udp_listen(struct socket_server *ss, uintptr_t opaque, const char *addr, int port);
int socket_server_udp_send(struct socket_server *ss, const struct socket_udp_address *addr,
                           struct socket_sendbuffer *buffer);
const struct socket_udp_address *socket_server_udp_address(struct socket_server *ss,
                                                           struct socket_message *msg, int *addrsz);

/* User objects sent with SOCKET_BUFFER_OBJECT. */
struct socket_object_interface {
	const void *(*buffer)(const void *);
	size_t (*size)(const void *);
	void (*free)(void *);
};
void socket_server_userobject(struct socket_server *ss, struct socket_object_interface *soi);

/* A snapshot for netstat; free with socket_info_release. */
struct socket_info *socket_server_info(struct socket_server *ss);
/* When bytes last came in on socket `id` (the clock of socket_server_updatetime),
 * 0 if `id` is not an open socket.  Any thread, no lock. */
uint64_t socket_server_rtime(struct socket_server *ss, int id);

#endif
