/*
 * lua-socket.c — skynet.socketdriver: the socket C API for Lua services, plus the
 * read buffer skynet/socket.lua keeps per socket.
 *
 * Socket functions take the service context as upvalue 1 (registry
 * "skynet_context", set by snlua), so the calling service owns what it creates.
 *
 * Read buffer: a userdata holding a chain of DATA payloads exactly as the socket
 * thread delivered them (no copy on push). `offset` is how much of the head node is
 * already consumed; `size` the bytes left in the whole chain. Invariant: every node
 * in the chain has at least one unread byte, so head == NULL iff size == 0.
 *
 * Send data may be: a string (written at once or copied by the socket layer), a
 * table of strings (concatenated), lightuserdata + size (skynet_malloc'd, ownership
 * passes), or a full userdata (raw bytes, size = rawlen or the given size).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lua-socket.h"
#include "skynet.h"
#include "skynet_socket.h"

#define BUFFER_MT "skynet.socketbuffer"

static struct skynet_context *getctx(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- read buffer ---- */

struct buffer_node {
	char *msg;
	int sz;
	struct buffer_node *next;
};

struct socket_buffer {
	size_t size;
	int offset;
	struct buffer_node *head;
	struct buffer_node *tail;
	struct buffer_node *spare; /* freed nodes kept for reuse */
};

static struct socket_buffer *checkbuffer(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, BUFFER_MT);
}

static void pop_node(struct socket_buffer *sb)
{
	struct buffer_node *n = sb->head;
	sb->head = n->next;
	if (sb->head == NULL)
		sb->tail = NULL;
	skynet_free(n->msg);
	n->msg = NULL;
	n->next = sb->spare;
	sb->spare = n;
	sb->offset = 0;
}

static void clear_buffer(struct socket_buffer *sb)
{
	while (sb->head)
		pop_node(sb);
	sb->size = 0;
}

static int lbuffer_gc(lua_State *L)
{
	struct socket_buffer *sb = checkbuffer(L, 1);
	clear_buffer(sb);
	while (sb->spare) {
		struct buffer_node *n = sb->spare;
		sb->spare = n->next;
		skynet_free(n);
	}
	return 0;
}

/* buffer() -> userdata */
static int lbuffer(lua_State *L)
{
	struct socket_buffer *sb = lua_newuserdatauv(L, sizeof(*sb), 0);
	memset(sb, 0, sizeof(*sb));
	if (luaL_newmetatable(L, BUFFER_MT)) {
		lua_pushcfunction(L, lbuffer_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return 1;
}

/* push(buffer, msg, sz) -> size ; takes ownership of msg */
static int lpush(lua_State *L)
{
	struct socket_buffer *sb = checkbuffer(L, 1);
	void *msg = lua_touserdata(L, 2);
	lua_Integer sz = luaL_checkinteger(L, 3);
	if (msg == NULL || sz <= 0) {
		skynet_free(msg);
		lua_pushinteger(L, (lua_Integer)sb->size);
		return 1;
	}
	struct buffer_node *n = sb->spare;
	if (n)
		sb->spare = n->next;
	else
		n = skynet_malloc(sizeof(*n));
	n->msg = msg;
	n->sz = (int)sz;
	n->next = NULL;
	if (sb->tail)
		sb->tail->next = n;
	else
		sb->head = n;
	sb->tail = n;
	sb->size += (size_t)sz;
	lua_pushinteger(L, (lua_Integer)sb->size);
	return 1;
}

/* Append the next `sz` bytes to b (or drop them when b is NULL). size >= sz. */
static void take_bytes(struct socket_buffer *sb, size_t sz, luaL_Buffer *b)
{
	sb->size -= sz;
	while (sz > 0) {
		struct buffer_node *n = sb->head;
		size_t left = (size_t)(n->sz - sb->offset);
		size_t step = left < sz ? left : sz;
		if (b)
			luaL_addlstring(b, n->msg + sb->offset, step);
		sz -= step;
		if (step == left)
			pop_node(sb);
		else
			sb->offset += (int)step;
	}
}

static void push_bytes(lua_State *L, struct socket_buffer *sb, size_t sz)
{
	struct buffer_node *n = sb->head;
	if (n && (size_t)(n->sz - sb->offset) >= sz) {
		/* the common case: one node holds it all, no luaL_Buffer */
		lua_pushlstring(L, n->msg + sb->offset, sz);
		take_bytes(sb, sz, NULL);
		return;
	}
	luaL_Buffer b;
	luaL_buffinitsize(L, &b, sz);
	take_bytes(sb, sz, &b);
	luaL_pushresult(&b);
}

/* pop(buffer, sz) -> string | nil (when fewer than sz bytes are buffered) */
static int lpop(lua_State *L)
{
	struct socket_buffer *sb = checkbuffer(L, 1);
	lua_Integer sz = luaL_checkinteger(L, 2);
	if (sz < 0 || sb->size < (size_t)sz)
		return 0;
	push_bytes(L, sb, (size_t)sz);
	return 1;
}

/* readall(buffer) -> string (everything, possibly empty) */
static int lreadall(lua_State *L)
{
	struct socket_buffer *sb = checkbuffer(L, 1);
	push_bytes(L, sb, sb->size);
	return 1;
}

/* clear(buffer) */
static int lclear(lua_State *L)
{
	clear_buffer(checkbuffer(L, 1));
	return 0;
}

/* size(buffer) -> integer */
static int lsize(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)checkbuffer(L, 1)->size);
	return 1;
}

/* Position of the first `sep` in the buffer, counted from the unread start; -1 if none. */
static long find_sep(struct socket_buffer *sb, const char *sep, size_t seplen)
{
	if (seplen == 0 || sb->size < seplen)
		return -1;
	/* walk (node, index) pairs; on a match attempt scan ahead without moving */
	long pos = 0;
	struct buffer_node *n = sb->head;
	int i = sb->offset;
	while (n) {
		if (n->msg[i] == sep[0]) {
			struct buffer_node *m = n;
			int j = i;
			size_t k = 0;
			while (k < seplen && m && m->msg[j] == sep[k]) {
				k++;
				if (++j == m->sz) {
					m = m->next;
					j = 0;
				}
			}
			if (k == seplen)
				return pos;
			if (m == NULL && k < seplen)
				return -1; /* ran out of bytes mid-match */
		}
		pos++;
		if (++i == n->sz) {
			n = n->next;
			i = 0;
		}
	}
	return -1;
}

/* readline(buffer, sep [, check]) -> line without sep | nil ; check: -> boolean */
static int lreadline(lua_State *L)
{
	struct socket_buffer *sb = checkbuffer(L, 1);
	size_t seplen;
	const char *sep = luaL_optlstring(L, 2, "\n", &seplen);
	bool check = lua_toboolean(L, 3);
	long pos = find_sep(sb, sep, seplen);
	if (check) {
		lua_pushboolean(L, pos >= 0);
		return 1;
	}
	if (pos < 0)
		return 0;
	push_bytes(L, sb, (size_t)pos);
	take_bytes(sb, seplen, NULL);
	return 1;
}

/* drop(msg, sz): free a DATA payload nobody will read */
static int ldrop(lua_State *L)
{
	skynet_free(lua_touserdata(L, 1));
	return 0;
}

/* str2p(str) -> lightuserdata, sz : a skynet_malloc'd copy */
static int lstr2p(lua_State *L)
{
	size_t sz;
	const char *str = luaL_checklstring(L, 1, &sz);
	void *p = skynet_malloc(sz ? sz : 1);
	memcpy(p, str, sz);
	lua_pushlightuserdata(L, p);
	lua_pushinteger(L, (lua_Integer)sz);
	return 2;
}

/* header(str) -> integer : 1..4 bytes, big-endian */
static int lheader(lua_State *L)
{
	size_t sz;
	const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &sz);
	if (sz < 1 || sz > 4)
		return luaL_error(L, "Invalid read %s", (const char *)s);
	lua_Integer v = 0;
	for (size_t i = 0; i < sz; i++)
		v = (v << 8) | s[i];
	lua_pushinteger(L, v);
	return 1;
}

/* unpack(msg, sz) -> type, id, ud, data [, udp_address]
 * data: lightuserdata for DATA/UDP (the receiver frees it), else the padding string */
static int lunpack(lua_State *L)
{
	struct skynet_socket_message *m = lua_touserdata(L, 1);
	lua_Integer size = luaL_checkinteger(L, 2);
	if (m == NULL || (size_t)size < sizeof(*m))
		return luaL_error(L, "Invalid socket message");
	lua_pushinteger(L, m->type);
	lua_pushinteger(L, m->id);
	lua_pushinteger(L, m->ud);
	if (m->buffer == NULL) {
		lua_pushlstring(L, (const char *)(m + 1), (size_t)size - sizeof(*m));
		return 4;
	}
	lua_pushlightuserdata(L, m->buffer);
	if (m->type == SKYNET_SOCKET_TYPE_UDP) {
		int addrsz = 0;
		const char *addr = skynet_socket_udp_address(m, &addrsz);
		if (addr) {
			lua_pushlstring(L, addr, (size_t)addrsz);
			return 5;
		}
	}
	return 4;
}

/* ---- sockets ---- */

static int lconnect(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	int id = skynet_socket_connect(getctx(L), host, port);
	lua_pushinteger(L, id);
	return 1;
}

static int lclose(lua_State *L)
{
	skynet_socket_close(getctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int lshutdown(lua_State *L)
{
	skynet_socket_shutdown(getctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

/* listen(host, port [, backlog]) -> id | nil, err */
static int llisten(lua_State *L)
{
	const char *host = luaL_optstring(L, 1, "");
	int port = (int)luaL_checkinteger(L, 2);
	int backlog = (int)luaL_optinteger(L, 3, 32);
	int id = skynet_socket_listen(getctx(L), host, port, backlog);
	if (id < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "listen %s:%d failed: %s", host, port, strerror(errno));
		return 2;
	}
	lua_pushinteger(L, id);
	return 1;
}

static int llisten_unix(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int backlog = (int)luaL_optinteger(L, 2, 32);
	int id = skynet_socket_listen_unix(getctx(L), path, backlog);
	if (id < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "listen unix:%s failed: %s", path, strerror(errno));
		return 2;
	}
	lua_pushinteger(L, id);
	return 1;
}

/* Fill a sendbuffer from Lua values at idx (data) and idx+1 (optional size). */
static void get_buffer(lua_State *L, int idx, struct socket_sendbuffer *buf)
{
	switch (lua_type(L, idx)) {
	case LUA_TUSERDATA:
		buf->type = SOCKET_BUFFER_RAWPOINTER;
		buf->buffer = lua_touserdata(L, idx);
		buf->sz = lua_isinteger(L, idx + 1) ? (size_t)lua_tointeger(L, idx + 1) : lua_rawlen(L, idx);
		break;
	case LUA_TLIGHTUSERDATA:
		buf->type = SOCKET_BUFFER_MEMORY;
		buf->buffer = lua_touserdata(L, idx);
		buf->sz = (size_t)luaL_checkinteger(L, idx + 1);
		break;
	case LUA_TTABLE: {
		/* concatenate into one block the socket layer owns */
		size_t total = 0;
		lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, i);
			size_t len;
			if (lua_tolstring(L, -1, &len) == NULL)
				luaL_error(L, "socket write: table element %d is not a string", (int)i);
			total += len;
			lua_pop(L, 1);
		}
		char *p = skynet_malloc(total ? total : 1);
		size_t off = 0;
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, idx, i);
			size_t len;
			const char *s = lua_tolstring(L, -1, &len);
			memcpy(p + off, s, len);
			off += len;
			lua_pop(L, 1);
		}
		buf->type = SOCKET_BUFFER_MEMORY;
		buf->buffer = p;
		buf->sz = total;
		break;
	}
	default: {
		size_t len;
		buf->buffer = luaL_checklstring(L, idx, &len);
		buf->type = SOCKET_BUFFER_RAWPOINTER;
		buf->sz = len;
		break;
	}
	}
}

/* send(id, data [, sz]) -> boolean */
static int lsend(lua_State *L)
{
	struct socket_sendbuffer buf;
	buf.id = (int)luaL_checkinteger(L, 1);
	get_buffer(L, 2, &buf);
	lua_pushboolean(L, skynet_socket_sendbuffer(getctx(L), &buf) == 0);
	return 1;
}

/* lsend(id, data [, sz]) -> boolean : low priority */
static int lsendlow(lua_State *L)
{
	struct socket_sendbuffer buf;
	buf.id = (int)luaL_checkinteger(L, 1);
	get_buffer(L, 2, &buf);
	lua_pushboolean(L, skynet_socket_sendbuffer_lowpriority(getctx(L), &buf) == 0);
	return 1;
}

static int lbind(lua_State *L)
{
	int id = skynet_socket_bind(getctx(L), (int)luaL_checkinteger(L, 1));
	lua_pushinteger(L, id);
	return 1;
}

static int lstart(lua_State *L)
{
	skynet_socket_start(getctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int lpause(lua_State *L)
{
	skynet_socket_pause(getctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

static int lnodelay(lua_State *L)
{
	skynet_socket_nodelay(getctx(L), (int)luaL_checkinteger(L, 1));
	return 0;
}

/* udp([addr [, port]]) -> id ; raises on failure */
static int ludp(lua_State *L)
{
	const char *addr = luaL_optstring(L, 1, NULL);
	int port = (int)luaL_optinteger(L, 2, 0);
	int id = skynet_socket_udp(getctx(L), addr, port);
	if (id < 0)
		return luaL_error(L, "udp init failed: %s", strerror(errno));
	lua_pushinteger(L, id);
	return 1;
}

static int ludp_connect(lua_State *L)
{
	int id = (int)luaL_checkinteger(L, 1);
	const char *addr = luaL_checkstring(L, 2);
	int port = (int)luaL_checkinteger(L, 3);
	if (skynet_socket_udp_connect(getctx(L), id, addr, port) != 0)
		return luaL_error(L, "udp connect to %s:%d failed", addr, port);
	return 0;
}

static int ludp_dial(lua_State *L)
{
	const char *addr = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	int id = skynet_socket_udp_dial(getctx(L), addr, port);
	if (id < 0)
		return luaL_error(L, "udp dial %s:%d failed", addr, port);
	lua_pushinteger(L, id);
	return 1;
}

static int ludp_listen(lua_State *L)
{
	const char *addr = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	int id = skynet_socket_udp_listen(getctx(L), addr, port);
	if (id < 0)
		return luaL_error(L, "udp listen %s:%d failed: %s", addr, port, strerror(errno));
	lua_pushinteger(L, id);
	return 1;
}

/* udp_send(id, address, data [, sz]) -> boolean */
static int ludp_send(lua_State *L)
{
	struct socket_sendbuffer buf;
	buf.id = (int)luaL_checkinteger(L, 1);
	const char *address = luaL_checkstring(L, 2);
	get_buffer(L, 3, &buf);
	lua_pushboolean(L, skynet_socket_udp_sendbuffer(getctx(L), address, &buf) == 0);
	return 1;
}

/* udp_address(address_string) -> ip, port */
static int ludp_address(lua_State *L)
{
	size_t sz;
	const uint8_t *a = (const uint8_t *)luaL_checklstring(L, 1, &sz);
	char ip[INET6_ADDRSTRLEN];
	int family;
	if (sz == 7 && a[0] == 1)
		family = AF_INET;
	else if (sz == 19 && a[0] == 2)
		family = AF_INET6;
	else
		return luaL_error(L, "Invalid udp address");
	int port = (a[1] << 8) | a[2];
	if (inet_ntop(family, a + 3, ip, sizeof(ip)) == NULL)
		return luaL_error(L, "Invalid udp address");
	lua_pushstring(L, ip);
	lua_pushinteger(L, port);
	return 2;
}

/* resolve(host) -> { ip, ... } ; raises when the name does not resolve */
static int lresolve(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	struct addrinfo *ai = NULL;
	int status = getaddrinfo(host, NULL, &hints, &ai);
	if (status != 0)
		return luaL_error(L, "resolve %s: %s", host, gai_strerror(status));
	lua_newtable(L);
	int n = 0;
	for (struct addrinfo *p = ai; p; p = p->ai_next) {
		char ip[INET6_ADDRSTRLEN];
		const void *src = p->ai_family == AF_INET
		                          ? (const void *)&((struct sockaddr_in *)p->ai_addr)->sin_addr
		                          : (const void *)&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
		if (inet_ntop(p->ai_family, src, ip, sizeof(ip))) {
			lua_pushstring(L, ip);
			lua_rawseti(L, -2, ++n);
		}
	}
	freeaddrinfo(ai);
	return 1;
}

/* info() -> { {id=, address=, type=, read=, write=, ...}, ... } */
static int linfo(lua_State *L)
{
	static const char *types[] = { "UNKNOWN", "LISTEN", "TCP", "UDP", "BIND", "CLOSING" };
	struct socket_info *si = skynet_socket_info();
	lua_newtable(L);
	int n = 0;
	for (struct socket_info *p = si; p; p = p->next) {
		lua_createtable(L, 0, 12);
		lua_pushinteger(L, p->id);
		lua_setfield(L, -2, "id");
		lua_pushinteger(L, (lua_Integer)p->opaque);
		lua_setfield(L, -2, "address");
		lua_pushstring(L, p->type >= 0 && p->type <= 5 ? types[p->type] : "UNKNOWN");
		lua_setfield(L, -2, "type");
		if (p->type == SOCKET_INFO_LISTEN) {
			lua_pushinteger(L, (lua_Integer)p->read);
			lua_setfield(L, -2, "accept");
		} else {
			lua_pushinteger(L, (lua_Integer)p->read);
			lua_setfield(L, -2, "read");
		}
		lua_pushinteger(L, (lua_Integer)p->write);
		lua_setfield(L, -2, "write");
		lua_pushinteger(L, (lua_Integer)p->rtime);
		lua_setfield(L, -2, "rtime");
		lua_pushinteger(L, (lua_Integer)p->wtime);
		lua_setfield(L, -2, "wtime");
		lua_pushinteger(L, p->wbuffer);
		lua_setfield(L, -2, "wbuffer");
		lua_pushboolean(L, p->reading);
		lua_setfield(L, -2, "reading");
		lua_pushboolean(L, p->writing);
		lua_setfield(L, -2, "writing");
		if (p->name[0]) {
			lua_pushstring(L, p->name);
			lua_setfield(L, -2,
			             (p->type == SOCKET_INFO_TCP || p->type == SOCKET_INFO_CLOSING) ? "peer"
			                                                                            : "sock");
		}
		lua_rawseti(L, -2, ++n);
	}
	socket_info_release(si);
	return 1;
}

int luaopen_skynet_socketdriver(lua_State *L)
{
	luaL_checkversion(L);
	luaL_Reg plain[] = {
		{ "buffer", lbuffer },   { "push", lpush },         { "pop", lpop },
		{ "readall", lreadall }, { "readline", lreadline }, { "clear", lclear },
		{ "size", lsize },       { "drop", ldrop },         { "str2p", lstr2p },
		{ "header", lheader },   { "unpack", lunpack },     { "udp_address", ludp_address },
		{ "resolve", lresolve }, { "info", linfo },         { NULL, NULL },
	};
	luaL_newlib(L, plain);
	luaL_Reg withctx[] = {
		{ "connect", lconnect },
		{ "close", lclose },
		{ "shutdown", lshutdown },
		{ "listen", llisten },
		{ "listen_unix", llisten_unix },
		{ "send", lsend },
		{ "lsend", lsendlow },
		{ "bind", lbind },
		{ "start", lstart },
		{ "pause", lpause },
		{ "nodelay", lnodelay },
		{ "udp", ludp },
		{ "udp_connect", ludp_connect },
		{ "udp_dial", ludp_dial },
		{ "udp_listen", ludp_listen },
		{ "udp_send", ludp_send },
		{ NULL, NULL },
	};
	lua_getfield(L, LUA_REGISTRYINDEX, "skynet_context");
	if (lua_touserdata(L, -1) == NULL)
		return luaL_error(L, "Init skynet context first");
	luaL_setfuncs(L, withctx, 1);
	return 1;
}
