/*
 * lua-skynet.c — the skynet.core module: the bridge
 * between a Lua service and the runtime's C API.
 *
 * Every function gets the service context as upvalue 1 (registry
 * "skynet_context", set by snlua before any Lua code runs).
 *
 * Message callbacks run in a dedicated Lua thread whose stack is, between
 * messages, exactly [1] = traceback handler, [2] = the Lua callback; so a
 * message costs one pushvalue, five pushes and a pcall, no table lookups.
 */
#include <inttypes.h>
#include <limits.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua-seri.h"
#include "preload.h"
#include "skynet.h"
#include "skynet_server.h"
#include "skynet_timer.h"

#define KRED "\x1B[31m"
#define KNRM "\x1B[0m"

/* Frames of source position a trace line carries at most. */
#define TRACE_FRAMES 3

/* snlua keeps the service's context in the extra space of its main thread,
 * which every coroutine inherits (lua_newthread copies it): the functions
 * below need no upvalue, so their table can be a per-process template. */
static struct skynet_context *getctx(lua_State *L)
{
	return *(struct skynet_context **)lua_getextraspace(L);
}

/* ---- callbacks --------------------------------------------------------- */

/*
 * Userdata anchoring one callback: uservalue 1 is its Lua thread, uservalue 2
 * the previous callback state. Keeping the chain alive matters: callback() is
 * often called from code that runs *inside* the previous callback thread
 * (skynet.exit), which must not be collected while it is still on the C stack.
 */
struct cbstate {
	lua_State *L;
	struct skiff_trap *trap; /* NULL outside snlua */
};

static const char CALLBACK_KEY = 0;

/* Message handler: always returns a string with a traceback. Shared with
 * snlua (declared in preload.h). */
int skiff_traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static void report_error(struct skynet_context *ctx, lua_State *L, int status, int type, int session,
                         uint32_t source, size_t sz)
{
	const char *self = skynet_command(ctx, "REG", NULL);
	switch (status) {
	case LUA_ERRRUN: {
		const char *err = lua_tostring(L, -1);
		skynet_error(ctx, "lua call [%x to %s : %d msgsz = %zu] error : " KRED "%s" KNRM, source,
		             self, session, sz, err ? err : "?");
		break;
	}
	case LUA_ERRMEM:
		skynet_error(ctx, "lua memory error : [%x to %s : %d]", source, self, session);
		break;
	case LUA_ERRERR:
		skynet_error(ctx, "lua error in error : [%x to %s : %d]", source, self, session);
		break;
	default:
		skynet_error(ctx, "lua call [%x to %s : %d type %d] failed with status %d", source, self,
		             session, type, status);
		break;
	}
}

static void call_lua(struct cbstate *cb, struct skynet_context *ctx, int type, int session, uint32_t source,
                     const void *msg, size_t sz)
{
	lua_State *L = cb->L;
	if (cb->trap)
		skiff_trap_switch(cb->trap, L);
	lua_pushvalue(L, 2);
	lua_pushinteger(L, type);
	lua_pushlightuserdata(L, (void *)msg);
	lua_pushinteger(L, (lua_Integer)sz);
	lua_pushinteger(L, session);
	lua_pushinteger(L, source);
	int status = lua_pcall(L, 5, 0, 1);
	if (status != LUA_OK) {
		report_error(ctx, L, status, type, session, source, sz);
		lua_settop(L, 2);
	}
}

/* Normal mode: the runtime frees msg after we return 0. */
static int dispatch_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                       const void *msg, size_t sz)
{
	call_lua(ud, ctx, type, session, source, msg, sz);
	return 0;
}

/* Forward mode: Lua owns msg (forwards or trashes it), even when it raised. */
static int forward_cb(struct skynet_context *ctx, void *ud, int type, int session, uint32_t source,
                      const void *msg, size_t sz)
{
	call_lua(ud, ctx, type, session, source, msg, sz);
	return 1;
}

/* callback(fn [, forward]) */
static int lcallback(lua_State *L)
{
	struct skynet_context *ctx = getctx(L);
	luaL_checktype(L, 1, LUA_TFUNCTION);
	int forward = lua_toboolean(L, 2);
	lua_settop(L, 1);
	struct cbstate *cb = lua_newuserdatauv(L, sizeof(*cb), 2);
	cb->trap = skiff_trap_get(L);
	cb->L = lua_newthread(L);
	lua_setiuservalue(L, -2, 1);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &CALLBACK_KEY);
	lua_setiuservalue(L, -2, 2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &CALLBACK_KEY);
	lua_pushcfunction(cb->L, skiff_traceback);
	lua_xmove(L, cb->L, 1); /* the function */
	skynet_callback(ctx, cb, forward ? forward_cb : dispatch_cb);
	return 0;
}

/* ---- sending ----------------------------------------------------------- */

/*
 * Arguments from index `first`: type, session (nil = allocate), msg, [sz].
 * msg is a string (copied by the runtime; "" sends no payload) or a
 * lightuserdata + size whose ownership passes to the runtime.
 * Returns the session; nil for an invalid destination; false if too large.
 */
static int send_message(lua_State *L, uint32_t source, int first)
{
	struct skynet_context *ctx = getctx(L);
	uint32_t dest = 0;
	const char *dest_name = NULL;
	switch (lua_type(L, 1)) {
	case LUA_TNUMBER:
		dest = (uint32_t)luaL_checkinteger(L, 1);
		if (dest == 0)
			return luaL_error(L, "Invalid service address 0");
		break;
	case LUA_TSTRING: dest_name = lua_tostring(L, 1); break;
	default: return luaL_error(L, "address must be number or string, got %s", luaL_typename(L, 1));
	}
	int type = (int)luaL_checkinteger(L, first);
	int session = 0;
	if (lua_isnil(L, first + 1))
		type |= PTYPE_TAG_ALLOCSESSION;
	else
		session = (int)luaL_checkinteger(L, first + 1);

	void *msg = NULL;
	size_t sz = 0;
	int mtype = lua_type(L, first + 2);
	switch (mtype) {
	case LUA_TSTRING:
		msg = (void *)lua_tolstring(L, first + 2, &sz);
		if (sz == 0)
			msg = NULL;
		break;
	case LUA_TLIGHTUSERDATA:
		msg = lua_touserdata(L, first + 2);
		sz = (size_t)luaL_checkinteger(L, first + 3);
		type |= PTYPE_TAG_DONTCOPY;
		break;
	case LUA_TNIL:
	case LUA_TNONE: break;
	default: return luaL_error(L, "invalid param %s", lua_typename(L, mtype));
	}

	int r = dest_name ? skynet_sendname(ctx, source, dest_name, type, session, msg, sz)
	                  : skynet_send(ctx, source, dest, type, session, msg, sz);
	if (r < 0) {
		if (r == -2) {
			lua_pushboolean(L, 0);
			return 1;
		}
		lua_pushnil(L);
		return 1;
	}
	lua_pushinteger(L, r);
	return 1;
}

/* send(addr, type, session, msg, [sz]) */
static int lsend(lua_State *L)
{
	return send_message(L, 0, 2);
}

/* redirect(addr, source, type, session, msg, [sz]) */
static int lredirect(lua_State *L)
{
	uint32_t source = (uint32_t)luaL_checkinteger(L, 2);
	return send_message(L, source, 3);
}

static int lgenid(lua_State *L)
{
	int session = skynet_send(getctx(L), 0, 0, PTYPE_TAG_ALLOCSESSION, 0, NULL, 0);
	lua_pushinteger(L, session);
	return 1;
}

/* ---- commands ---------------------------------------------------------- */

static int lcommand(lua_State *L)
{
	const char *cmd = luaL_checkstring(L, 1);
	const char *parm = luaL_optstring(L, 2, NULL);
	const char *result = skynet_command(getctx(L), cmd, parm);
	if (result == NULL)
		return 0;
	lua_pushstring(L, result);
	return 1;
}

/* Numeric parameter as an int32 decimal, numeric result as integer or float. */
static int lintcommand(lua_State *L)
{
	const char *cmd = luaL_checkstring(L, 1);
	const char *parm = NULL;
	char tmp[24];
	if (lua_type(L, 2) == LUA_TNUMBER) {
		snprintf(tmp, sizeof(tmp), "%d", (int)luaL_checkinteger(L, 2));
		parm = tmp;
	} else if (!lua_isnoneornil(L, 2)) {
		parm = luaL_checkstring(L, 2);
	}
	const char *result = skynet_command(getctx(L), cmd, parm);
	if (result == NULL)
		return 0;
	char *end = NULL;
	long long n = strtoll(result, &end, 0);
	if (*end == '\0') {
		lua_pushinteger(L, (lua_Integer)n);
		return 1;
	}
	double d = strtod(result, &end);
	if (*end != '\0')
		return luaL_error(L, "Invalid result %s", result);
	lua_pushnumber(L, d);
	return 1;
}

/* timeout(ti) -> session: the TIMEOUT command without its decimal string round
 * trip (skynet.timeout/sleep arm one per call; 100,000 timers armed in one
 * handler spent 12% of their instructions formatting and parsing). */
static int ltimeout(lua_State *L)
{
	struct skynet_context *ctx = getctx(L);
	lua_Integer ti = luaL_checkinteger(L, 1);
	if (ti > INT_MAX)
		ti = INT_MAX;
	else if (ti < 0)
		ti = 0;
	int session = skynet_context_newsession(ctx);
	skynet_timeout(skynet_context_handle(ctx), (int)ti, session);
	lua_pushinteger(L, session);
	return 1;
}

/* A ":hex" result as an integer handle; anything else returns nothing. */
static int laddresscommand(lua_State *L)
{
	const char *cmd = luaL_checkstring(L, 1);
	const char *parm = luaL_optstring(L, 2, NULL);
	const char *result = skynet_command(getctx(L), cmd, parm);
	if (result == NULL || result[0] != ':' || result[1] == '\0')
		return 0;
	char *end = NULL;
	unsigned long addr = strtoul(result + 1, &end, 16);
	if (*end != '\0' || addr > UINT32_MAX)
		return 0;
	lua_pushinteger(L, (lua_Integer)addr);
	return 1;
}

static int lself(lua_State *L)
{
	const char *reg = skynet_command(getctx(L), "REG", NULL);
	lua_pushinteger(L, reg ? (lua_Integer)strtoul(reg + 1, NULL, 16) : 0);
	return 1;
}

/* error(...): the arguments tostring'ed and joined by single spaces. */
static int lerror(lua_State *L)
{
	struct skynet_context *ctx = getctx(L);
	int n = lua_gettop(L);
	size_t len;
	const char *s;
	if (n <= 1) {
		lua_settop(L, 1);
		s = luaL_tolstring(L, 1, &len);
	} else {
		luaL_Buffer b;
		luaL_buffinit(L, &b);
		for (int i = 1; i <= n; i++) {
			luaL_tolstring(L, i, NULL);
			luaL_addvalue(&b);
			if (i < n)
				luaL_addchar(&b, ' ');
		}
		luaL_pushresult(&b);
		s = lua_tolstring(L, -1, &len);
	}
	skynet_error(ctx, "%.*s", (int)len, s);
	return 0;
}

static int lharbor(lua_State *L)
{
	uint32_t handle = (uint32_t)luaL_checkinteger(L, 1);
	int harbor = 0;
	int remote = skynet_isremote(getctx(L), handle, &harbor);
	lua_pushinteger(L, harbor);
	lua_pushboolean(L, remote);
	return 2;
}

/* ---- time -------------------------------------------------------------- */

static int64_t hpc_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int lnow(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)skynet_now());
	return 1;
}

static int lhpc(lua_State *L)
{
	lua_pushinteger(L, hpc_ns());
	return 1;
}

/*
 * trace(tag, user [, co] [, level]): one log line. With a third argument the
 * line ends with up to TRACE_FRAMES Lua source positions from `level` (default
 * 1) of `co` (default the caller) upwards; C frames are skipped.
 */
static int ltrace(lua_State *L)
{
	struct skynet_context *ctx = getctx(L);
	const char *tag = luaL_checkstring(L, 1);
	const char *user = luaL_checkstring(L, 2);
	if (lua_isnoneornil(L, 3)) {
		skynet_error(ctx, "<TRACE %s> %" PRId64 " %s", tag, hpc_ns(), user);
		return 0;
	}
	lua_State *co = L;
	int level;
	if (lua_isthread(L, 3)) {
		co = lua_tothread(L, 3);
		level = (int)luaL_optinteger(L, 4, 1);
	} else {
		level = (int)luaL_optinteger(L, 3, 1);
	}
	char where[TRACE_FRAMES * (LUA_IDSIZE + 16)];
	size_t used = 0;
	int frames = 0;
	lua_Debug ar;
	while (frames < TRACE_FRAMES && lua_getstack(co, level++, &ar)) {
		lua_getinfo(co, "Sl", &ar);
		if (ar.currentline < 0)
			continue;
		int w = snprintf(where + used, sizeof(where) - used, "%s%s:%d", frames ? " " : "",
		                 ar.short_src, ar.currentline);
		if (w < 0 || (size_t)w >= sizeof(where) - used)
			break;
		used += (size_t)w;
		frames++;
	}
	where[used] = '\0';
	if (frames == 0)
		skynet_error(ctx, "<TRACE %s> %" PRId64 " %s", tag, hpc_ns(), user);
	else
		skynet_error(ctx, "<TRACE %s> %" PRId64 " %s : %s", tag, hpc_ns(), user, where);
	return 0;
}

/* ---- raw messages ------------------------------------------------------ */

/* tostring(msg, sz): copy a raw message into a Lua string (msg is not freed). */
static int ltostring(lua_State *L)
{
	switch (lua_type(L, 1)) {
	case LUA_TNONE:
	case LUA_TNIL: return 0;
	case LUA_TSTRING: lua_settop(L, 1); return 1;
	default: {
		luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
		const char *msg = lua_touserdata(L, 1);
		lua_Integer sz = luaL_checkinteger(L, 2);
		luaL_argcheck(L, sz >= 0 && (msg != NULL || sz == 0), 2, "invalid message size");
		lua_pushlstring(L, msg ? msg : "", (size_t)sz);
		return 1;
	}
	}
}

/* trash(msg, sz): free a raw message; strings and nil are ignored. */
static int ltrash(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TLIGHTUSERDATA)
		skynet_free(lua_touserdata(L, 1));
	return 0;
}

static const luaL_Reg core_funcs[] = {
	{ "send", lsend },
	{ "redirect", lredirect },
	{ "genid", lgenid },
	{ "command", lcommand },
	{ "intcommand", lintcommand },
	{ "timeout", ltimeout },
	{ "addresscommand", laddresscommand },
	{ "self", lself },
	{ "error", lerror },
	{ "harbor", lharbor },
	{ "callback", lcallback },
	{ "trace", ltrace },
	{ "tostring", ltostring },
	{ "pack", luaseri_pack },
	{ "unpack", luaseri_unpack },
	{ "packstring", luaseri_packstring },
	{ "trash", ltrash },
	{ "now", lnow },
	{ "hpc", lhpc },
	{ NULL, NULL },
};

#ifdef LUA_SHARED_STRINGS
/* Made in the seed state (seed.c); then every service copies it. */
static const void *core_template;

void skiff_core_template(lua_State *L)
{
	luaL_newlib(L, core_funcs);
	core_template = lua_sharetable(L, -1);
	luaL_ref(L, LUA_REGISTRYINDEX); /* anchored in the seed */
}
#endif

int luaopen_skynet_core(lua_State *L)
{
	luaL_checkversion(L);
	lua_getfield(L, LUA_REGISTRYINDEX, "skynet_context");
	if (lua_touserdata(L, -1) == NULL)
		return luaL_error(L, "Init skynet context first");
#ifdef LUA_SHARED_STRINGS
	if (core_template) {
		lua_clonetable(L, core_template);
		return 1;
	}
#endif
	luaL_newlib(L, core_funcs);
	return 1;
}
