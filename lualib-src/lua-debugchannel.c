/*
 * lua-debugchannel.c — skynet.debugchannel.
 *
 * A channel is a FIFO of byte strings shared by two services: the debug
 * console writes the operator's lines into it, and the service being debugged
 * reads them, either between messages (a poll) or while its worker thread is
 * stopped at a breakpoint inside a debug hook (a blocking read). The two ends
 * may run on different worker threads at the same moment, hence the lock.
 *
 * Handing a channel over: create() returns the channel and an integer id; the
 * id travels in the REMOTEDEBUG message and the other service calls
 * connect(id). Ids, not pointers, go into messages: connect() looks the id up
 * in a process-wide list, so a stale or forged id is an error, never a wild
 * pointer.
 *
 * Invariants:
 *  - a channel is on the list exactly while refs > 0; each Lua userdata owns
 *    one reference, dropped by its __gc;
 *  - closed is sticky: writes fail, reads drain what is queued, then report
 *    the close; closing either end (close() or __gc) closes the channel, so a
 *    service that goes away always wakes a peer blocked in read();
 *  - lock order: list_lock before a channel's lock.
 *
 * Lua API:
 *   create() -> chan, id
 *   connect(id) -> chan                  error if no such open channel
 *   chan:write(s) -> boolean             false once closed
 *   chan:read([timeout]) -> s | nil | false
 *        nil timeout blocks; 0 polls; >0 waits up to that many seconds.
 *        nil: nothing arrived in time; false: closed and drained.
 *   chan:close()
 *   chan:id() -> id
 */
#include "lua-debugchannel.h"

#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "skynet_malloc.h"

#define CHANNEL_MT "skynet.debugchannel"
/* A line longer than this is refused: the channel carries typed commands. */
#define MAX_LINE (1024 * 1024)

struct line {
	struct line *next;
	size_t sz;
	char data[];
};

struct channel {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on every write and on close */
	struct line *head, *tail;
	int refs;   /* guarded by list_lock */
	int closed; /* guarded by lock */
	lua_Integer id;
	struct channel *next; /* guarded by list_lock */
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct channel *channels = NULL;
static lua_Integer last_id = 0;

struct handle {
	struct channel *c; /* NULL after __gc */
};

static struct channel *channel_new(void)
{
	struct channel *c = skynet_malloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	c->refs = 1;
	pthread_mutex_lock(&list_lock);
	c->id = ++last_id;
	c->next = channels;
	channels = c;
	pthread_mutex_unlock(&list_lock);
	return c;
}

static void channel_close(struct channel *c)
{
	pthread_mutex_lock(&c->lock);
	c->closed = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* A new reference to the open channel `id`, or NULL. */
static struct channel *channel_grab(lua_Integer id)
{
	struct channel *found = NULL;
	pthread_mutex_lock(&list_lock);
	for (struct channel *c = channels; c; c = c->next) {
		if (c->id == id) {
			pthread_mutex_lock(&c->lock);
			if (!c->closed) {
				c->refs++;
				found = c;
			}
			pthread_mutex_unlock(&c->lock);
			break;
		}
	}
	pthread_mutex_unlock(&list_lock);
	return found;
}

static void channel_release(struct channel *c)
{
	pthread_mutex_lock(&list_lock);
	int last = --c->refs == 0;
	if (last) {
		struct channel **p = &channels;
		while (*p != c)
			p = &(*p)->next;
		*p = c->next;
	}
	pthread_mutex_unlock(&list_lock);
	if (!last)
		return;
	/* nobody else can reach c now */
	struct line *l = c->head;
	while (l) {
		struct line *next = l->next;
		skynet_free(l);
		l = next;
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	skynet_free(c);
}

/* Pushes a userdata owning one reference to c. */
static void push_handle(lua_State *L, struct channel *c)
{
	struct handle *h = lua_newuserdatauv(L, sizeof(*h), 0);
	h->c = c;
	luaL_setmetatable(L, CHANNEL_MT);
}

static struct channel *check_channel(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, CHANNEL_MT);
	if (h->c == NULL)
		luaL_error(L, "debug channel already released");
	return h->c;
}

/* create() -> chan, id */
static int lcreate(lua_State *L)
{
	struct channel *c = channel_new();
	push_handle(L, c);
	lua_pushinteger(L, c->id);
	return 2;
}

/* connect(id) -> chan */
static int lconnect(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	struct channel *c = channel_grab(id);
	if (c == NULL)
		return luaL_error(L, "no open debug channel %I", id);
	push_handle(L, c);
	return 1;
}

/* chan:write(s) -> boolean */
static int lwrite(lua_State *L)
{
	struct channel *c = check_channel(L);
	size_t sz;
	const char *s = luaL_checklstring(L, 2, &sz);
	luaL_argcheck(L, sz <= MAX_LINE, 2, "line too long");
	struct line *l = skynet_malloc(sizeof(*l) + sz);
	l->next = NULL;
	l->sz = sz;
	memcpy(l->data, s, sz);
	pthread_mutex_lock(&c->lock);
	int ok = !c->closed;
	if (ok) {
		if (c->tail)
			c->tail->next = l;
		else
			c->head = l;
		c->tail = l;
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	if (!ok)
		skynet_free(l);
	lua_pushboolean(L, ok);
	return 1;
}

/* Absolute CLOCK_MONOTONIC time `sec` seconds from now. */
static struct timespec deadline_after(double sec)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double whole = (double)(time_t)sec;
	ts.tv_sec += (time_t)sec;
	ts.tv_nsec += (long)((sec - whole) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * chan:read([timeout]) -> s | nil | false
 * Blocks the calling thread (the whole service) when asked to: that is the
 * point while stopped at a breakpoint.
 *
 * The Lua string is allocated before the line leaves the queue, so an
 * out-of-memory error (a service over its memory limit) loses nothing: we
 * peek at the head's size, allocate with the lock released, then take the
 * head only if it still has that size (there is one reader in practice, so
 * the retry loop runs once).
 */
static int lread(lua_State *L)
{
	struct channel *c = check_channel(L);
	int forever = lua_isnoneornil(L, 2);
	double timeout = forever ? 0 : luaL_checknumber(L, 2);
	struct timespec until = { 0, 0 };
	if (!forever && timeout > 0)
		until = deadline_after(timeout);
	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (c->head == NULL && !c->closed) {
			if (forever) {
				pthread_cond_wait(&c->cond, &c->lock);
			} else if (timeout <= 0) {
				break;
			} else if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT) {
				break;
			}
		}
		int empty = c->head == NULL;
		size_t sz = empty ? 0 : c->head->sz;
		int closed = c->closed;
		pthread_mutex_unlock(&c->lock);
		if (empty) {
			if (closed)
				lua_pushboolean(L, 0);
			else
				lua_pushnil(L);
			return 1;
		}
		luaL_Buffer b;
		char *dst = luaL_buffinitsize(L, &b, sz); /* may raise; the queue is untouched */
		pthread_mutex_lock(&c->lock);
		struct line *l = c->head;
		int fits = l != NULL && l->sz == sz;
		if (fits) {
			c->head = l->next;
			if (c->head == NULL)
				c->tail = NULL;
		}
		pthread_mutex_unlock(&c->lock);
		if (fits) {
			memcpy(dst, l->data, sz);
			skynet_free(l);
			luaL_pushresultsize(&b, sz);
			return 1;
		}
		lua_settop(L, 2); /* another reader won the line: size the next one */
	}
}

/* chan:close() — either end; wakes a blocked reader */
static int lclose(lua_State *L)
{
	channel_close(check_channel(L));
	return 0;
}

static int lid(lua_State *L)
{
	lua_pushinteger(L, check_channel(L)->id);
	return 1;
}

static int lgc(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, CHANNEL_MT);
	if (h->c) {
		channel_close(h->c);
		channel_release(h->c);
		h->c = NULL;
	}
	return 0;
}

static int ltostring(lua_State *L)
{
	struct handle *h = luaL_checkudata(L, 1, CHANNEL_MT);
	if (h->c)
		lua_pushfstring(L, "debugchannel: %I", h->c->id);
	else
		lua_pushliteral(L, "debugchannel: (released)");
	return 1;
}

int luaopen_skynet_debugchannel(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg methods[] = {
		{ "write", lwrite }, { "read", lread }, { "close", lclose }, { "id", lid }, { NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", lgc },
		{ "__close", lgc },
		{ "__tostring", ltostring },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "create", lcreate },
		{ "connect", lconnect },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, CHANNEL_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	return 1;
}
