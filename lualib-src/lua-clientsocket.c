/*
 * lua-clientsocket.c — client.socket: the small blocking-connect, polling-read
 * TCP API that skynet's example clients use from a plain lua5.4 interpreter.
 * Built only into luaclib/client.so (never into a node: a service must not
 * block a worker thread).
 *
 *   connect(host, port) -> fd     blocking connect, then the fd is non-blocking
 *   recv(fd)            -> data | "" (peer closed) | nothing (no data yet)
 *   send(fd, data)                 writes all of data (waits while the socket is full)
 *   shutdown(fd, "r"|"w"|"rw"), close(fd), usleep(microseconds)
 *   readstdin()         -> a line without its "\n", or nothing if none is complete
 *
 * readstdin keeps its partial line in a userdata (the upvalue of the closure)
 * and only reads stdin when poll() says there is something to read, so a
 * client loop that calls it never blocks.
 */
#include "lua-crypt.h"

#include <lauxlib.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define RECV_CHUNK 4096
#define LINE_MAX_BYTES 4096

static int lconnect(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	lua_Integer port = luaL_checkinteger(L, 2);
	char service[32];
	snprintf(service, sizeof service, "%lld", (long long)port);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int fd = -1;
	if (port >= 0 && port <= 65535 && getaddrinfo(host, service, &hints, &res) == 0) {
		for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0)
				continue;
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
	}
	if (fd < 0)
		return luaL_error(L, "Connect %s %d failed", host, (int)port);
	int flags = fcntl(fd, F_GETFL, 0);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	lua_pushinteger(L, fd);
	return 1;
}

static int checkfd(lua_State *L, int arg)
{
	lua_Integer fd = luaL_checkinteger(L, arg);
	luaL_argcheck(L, fd >= 0 && fd <= 0x7fffffff, arg, "invalid fd");
	return (int)fd;
}

static int lclose(lua_State *L)
{
	close(checkfd(L, 1));
	return 0;
}

static int lsend(lua_State *L)
{
	int fd = checkfd(L, 1);
	size_t sz;
	const char *p = luaL_checklstring(L, 2, &sz);
	while (sz > 0) {
		ssize_t n = send(fd, p, sz, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			sz -= (size_t)n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			return luaL_error(L, "socket error: %s", strerror(errno));
		}
	}
	return 0;
}

static int lrecv(lua_State *L)
{
	int fd = checkfd(L, 1);
	char buf[RECV_CHUNK];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n > 0) {
			lua_pushlstring(L, buf, (size_t)n);
			return 1;
		}
		if (n == 0) {
			lua_pushliteral(L, "");
			return 1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return luaL_error(L, "socket error: %s", strerror(errno));
	}
}

static int lshutdown(lua_State *L)
{
	int fd = checkfd(L, 1);
	const char *mode = luaL_checkstring(L, 2);
	int rd = 0, wr = 0;
	for (const char *m = mode; *m; m++) {
		if (*m == 'r')
			rd = 1;
		else if (*m == 'w')
			wr = 1;
		else
			return luaL_error(L, "Invalid mode %c", *m);
	}
	if (!rd && !wr)
		return luaL_error(L, "mode should be r or/and w");
	shutdown(fd, rd && wr ? SHUT_RDWR : rd ? SHUT_RD : SHUT_WR);
	return 0;
}

static int lusleep(lua_State *L)
{
	lua_Number us = luaL_checknumber(L, 1);
	if (us > 0) {
		struct timespec ts;
		ts.tv_sec = (time_t)(us / 1e6);
		ts.tv_nsec = (long)((us - (lua_Number)ts.tv_sec * 1e6) * 1e3);
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return 0;
}

/* Invariant: line[0..len) holds stdin bytes read but not yet returned. */
struct stdin_buf {
	size_t len;
	int eof;
	char line[LINE_MAX_BYTES];
};

/* Push and drop the first line of sb if one is complete (or final at EOF). */
static int pop_line(lua_State *L, struct stdin_buf *sb)
{
	char *nl = memchr(sb->line, '\n', sb->len);
	size_t take;
	if (nl != NULL)
		take = (size_t)(nl - sb->line);
	else if (sb->len == sizeof sb->line || (sb->eof && sb->len > 0))
		take = sb->len; /* an overlong line comes out in pieces */
	else
		return 0;
	lua_pushlstring(L, sb->line, take);
	size_t used = nl != NULL ? take + 1 : take;
	memmove(sb->line, sb->line + used, sb->len - used);
	sb->len -= used;
	return 1;
}

static int lreadstdin(lua_State *L)
{
	struct stdin_buf *sb = lua_touserdata(L, lua_upvalueindex(1));
	if (pop_line(L, sb))
		return 1;
	while (!sb->eof && sb->len < sizeof sb->line) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		if (poll(&pfd, 1, 0) <= 0)
			break;
		ssize_t n = read(0, sb->line + sb->len, sizeof sb->line - sb->len);
		if (n > 0)
			sb->len += (size_t)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			sb->eof = 1;
		else
			break;
		if (memchr(sb->line, '\n', sb->len) != NULL)
			break;
	}
	return pop_line(L, sb);
}

int luaopen_client_socket(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "connect", lconnect }, { "recv", lrecv },     { "send", lsend }, { "shutdown", lshutdown },
		{ "close", lclose },     { "usleep", lusleep }, { NULL, NULL },
	};
	luaL_newlib(L, l);
	struct stdin_buf *sb = lua_newuserdatauv(L, sizeof *sb, 0);
	sb->len = 0;
	sb->eof = 0;
	lua_pushcclosure(L, lreadstdin, 1);
	lua_setfield(L, -2, "readstdin");
	return 1;
}
