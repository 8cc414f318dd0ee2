/*
 * lua-profile.c — skynet.profile: per-coroutine CPU time, and the
 * coroutine.resume / coroutine.wrap that snlua installs in every service.
 *
 *   start([co])  begin counting co (default: the running coroutine)
 *   stop([co])   -> seconds of CPU co used since start, and stop counting
 *   resume(co, ...) / wrap(f)   coroutine.resume / coroutine.wrap, timed
 *
 * Time is the worker thread's CPU clock. A service can move between worker
 * threads from one message to the next, so a coroutine's time is only ever
 * measured within one resume (one thread): starttime[co] is the clock when co
 * last began running, or -1 while it is suspended; totaltime[co] sums the
 * finished runs. Nested resumes count towards the resumer as well.
 *
 * The same resume keeps the service's signal trap (preload.h) pointed at the
 * coroutine that is running, which is what lets SIGNAL 0 break an endless loop.
 */
#include <lauxlib.h>
#include <time.h>

#include "preload.h"

/* Upvalues shared by start, stop, resume and every wrapped function. */
#define UV_START lua_upvalueindex(1) /* weak: co -> start clock or -1 */
#define UV_TOTAL lua_upvalueindex(2) /* weak: co -> seconds so far */
#define UV_STATE lua_upvalueindex(3) /* struct profstate */
#define UV_WRAPCO lua_upvalueindex(4)

struct profstate {
	int profiling;           /* coroutines started and not stopped; 0 = fast path */
	struct skiff_trap *trap; /* NULL outside snlua */
};

static double thread_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the signal trap --------------------------------------------------- */

static const char TRAP_KEY = 0;

void skiff_trap_init(struct skiff_trap *trap, lua_State *L)
{
	atomic_store(&trap->active, L);
	lua_pushlightuserdata(L, trap);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &TRAP_KEY);
}

struct skiff_trap *skiff_trap_get(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &TRAP_KEY);
	struct skiff_trap *trap = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return trap;
}

/* A count hook left on an idle coroutine after the trap fired just removes itself. */
static void trap_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	struct skiff_trap *trap = skiff_trap_get(L);
	if (trap && atomic_exchange(&trap->state, 0) != 0) {
		/* level 0 inside a hook is the interrupted Lua function: name the loop itself */
		luaL_where(L, 0);
		lua_pushliteral(L, "signal 0");
		lua_concat(L, 2);
		lua_error(L);
	}
}

/*
 * Seq-cst store then load here, CAS then load in skiff_trap_signal: whichever
 * runs second sees the other, so the coroutine that is running gets the hook.
 */
void skiff_trap_switch(struct skiff_trap *trap, lua_State *L)
{
	atomic_store(&trap->active, L);
	if (atomic_load(&trap->state) != 0)
		lua_sethook(L, trap_hook, LUA_MASKCOUNT, 1);
}

/* Any thread. lua_sethook is designed to be callable asynchronously. */
void skiff_trap_signal(struct skiff_trap *trap)
{
	int idle = 0;
	if (!atomic_compare_exchange_strong(&trap->state, &idle, 1))
		return; /* already armed */
	lua_State *L = atomic_load(&trap->active);
	if (L)
		lua_sethook(L, trap_hook, LUA_MASKCOUNT, 1);
	int arming = 1;
	atomic_compare_exchange_strong(&trap->state, &arming, -1);
}

/* ---- resume ------------------------------------------------------------ */

/*
 * coroutine.resume's core: move narg values to co and run it. Returns the
 * number of values moved back to L, or -1 with an error message on L's top
 * (*status then says whether co itself failed, and how).
 */
static int resume_co(lua_State *L, lua_State *co, int narg, int *status)
{
	*status = LUA_OK;
	if (co == L) {
		lua_pushliteral(L, "cannot resume non-suspended coroutine");
		return -1;
	}
	int st = lua_status(co);
	if (st == LUA_OK) {
		lua_Debug ar;
		if (lua_getstack(co, 0, &ar)) {
			lua_pushliteral(L, "cannot resume non-suspended coroutine");
			return -1;
		}
		if (lua_gettop(co) == 0) {
			lua_pushliteral(L, "cannot resume dead coroutine");
			return -1;
		}
	} else if (st != LUA_YIELD) {
		lua_pushliteral(L, "cannot resume dead coroutine");
		return -1;
	}
	if (!lua_checkstack(co, narg)) {
		lua_pushliteral(L, "too many arguments to resume");
		return -1;
	}
	lua_xmove(L, co, narg);
	int nres = 0;
	st = lua_resume(co, L, narg, &nres);
	if (st == LUA_OK || st == LUA_YIELD) {
		if (!lua_checkstack(L, nres + 1)) {
			lua_pop(co, nres);
			lua_pushliteral(L, "too many results to resume");
			return -1;
		}
		lua_xmove(co, L, nres);
		return nres;
	}
	*status = st;
	lua_xmove(co, L, 1);
	return -1;
}

/*
 * Profiling tables are keyed by the coroutine object. It is pushed from a
 * stack index of L (coidx), or coidx == 0 for L itself: never pushed onto the
 * coroutine's own stack, which may be suspended or dead.
 */
static void push_co(lua_State *L, int coidx)
{
	if (coidx)
		lua_pushvalue(L, coidx);
	else
		lua_pushthread(L);
}

#define NOT_PROFILED (-2.0)

/* starttime[co]: the clock, -1 while suspended, NOT_PROFILED when absent. */
static double get_start(lua_State *L, int coidx)
{
	push_co(L, coidx);
	lua_rawget(L, UV_START);
	double t = lua_type(L, -1) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : NOT_PROFILED;
	lua_pop(L, 1);
	return t;
}

static double get_total(lua_State *L, int coidx)
{
	push_co(L, coidx);
	lua_rawget(L, UV_TOTAL);
	double t = (double)lua_tonumber(L, -1);
	lua_pop(L, 1);
	return t;
}

/* table[co] = v, or table[co] = nil when clear */
static void set_entry(lua_State *L, int table, int coidx, double v, int clear)
{
	push_co(L, coidx);
	if (clear)
		lua_pushnil(L);
	else
		lua_pushnumber(L, v);
	lua_rawset(L, table);
}

/* Resume co (at coidx) with the narg values on L's top, timing it if profiled. */
static int timed_resume(lua_State *L, lua_State *co, int coidx, int narg, int *status)
{
	struct profstate *ps = lua_touserdata(L, UV_STATE);
	if (ps->profiling > 0) {
		luaL_checkstack(L, 3, NULL);
		if (get_start(L, coidx) != NOT_PROFILED)
			set_entry(L, UV_START, coidx, thread_clock(), 0);
	}
	if (ps->trap)
		skiff_trap_switch(ps->trap, co);
	int r = resume_co(L, co, narg, status);
	if (ps->trap)
		skiff_trap_switch(ps->trap, L);
	/* co may have called profile.start() during this run: look again */
	if (ps->profiling > 0) {
		luaL_checkstack(L, 3, NULL);
		double start = get_start(L, coidx);
		if (start >= 0) {
			double total = get_total(L, coidx) + (thread_clock() - start);
			set_entry(L, UV_TOTAL, coidx, total, 0);
			set_entry(L, UV_START, coidx, -1, 0);
		}
	}
	return r;
}

static int lresume(lua_State *L)
{
	lua_State *co = lua_tothread(L, 1);
	luaL_argexpected(L, co != NULL, 1, "coroutine");
	int status;
	int r = timed_resume(L, co, 1, lua_gettop(L) - 1, &status);
	if (r < 0) {
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushboolean(L, 1);
	lua_insert(L, -(r + 1));
	return r + 1;
}

/* The function coroutine.wrap returns: errors propagate, with the caller's position. */
static int lwrapped(lua_State *L)
{
	lua_State *co = lua_tothread(L, UV_WRAPCO);
	int status;
	int r = timed_resume(L, co, UV_WRAPCO, lua_gettop(L), &status);
	if (r >= 0)
		return r;
	if (status != LUA_OK) {
		/* co died: run its pending to-be-closed variables; its error is already ours */
		lua_resetthread(co);
		lua_settop(co, 0);
	}
	if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
		luaL_where(L, 1);
		lua_insert(L, -2);
		lua_concat(L, 2);
	}
	return lua_error(L);
}

static int lwrap(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_State *co = lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 1);
	lua_pushvalue(L, UV_START);
	lua_pushvalue(L, UV_TOTAL);
	lua_pushvalue(L, UV_STATE);
	lua_rotate(L, -4, -1); /* the thread goes last */
	lua_pushcclosure(L, lwrapped, 4);
	return 1;
}

/* ---- start / stop ------------------------------------------------------ */

/* The coroutine argument's stack index, or 0 for the running coroutine. */
static int opt_thread(lua_State *L, lua_State **co)
{
	if (lua_isnoneornil(L, 1)) {
		*co = L;
		return 0;
	}
	*co = lua_tothread(L, 1);
	luaL_argexpected(L, *co != NULL, 1, "coroutine");
	return 1;
}

static int lstart(lua_State *L)
{
	lua_State *co;
	int coidx = opt_thread(L, &co);
	struct profstate *ps = lua_touserdata(L, UV_STATE);
	if (get_start(L, coidx) != NOT_PROFILED)
		return luaL_error(L, "Thread %p start profile more than once", (void *)co);
	/* another coroutine is suspended: its clock starts at its next resume */
	set_entry(L, UV_START, coidx, co == L ? thread_clock() : -1, 0);
	set_entry(L, UV_TOTAL, coidx, 0, 0);
	ps->profiling++;
	return 0;
}

static int lstop(lua_State *L)
{
	lua_State *co;
	int coidx = opt_thread(L, &co);
	struct profstate *ps = lua_touserdata(L, UV_STATE);
	double start = get_start(L, coidx);
	if (start == NOT_PROFILED)
		return luaL_error(L, "Call profile.start() before profile.stop()");
	double total = get_total(L, coidx);
	if (start >= 0)
		total += thread_clock() - start;
	set_entry(L, UV_START, coidx, 0, 1);
	set_entry(L, UV_TOTAL, coidx, 0, 1);
	ps->profiling--;
	lua_pushnumber(L, total);
	return 1;
}

int luaopen_skynet_profile(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "start", lstart }, { "stop", lstop }, { "resume", lresume },
		{ "wrap", lwrap },   { NULL, NULL },
	};
	luaL_newlibtable(L, l);
	lua_newtable(L); /* starttime */
	lua_newtable(L); /* totaltime */
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_pushvalue(L, -1);
	lua_setmetatable(L, -3);
	lua_setmetatable(L, -3);
	struct profstate *ps = lua_newuserdatauv(L, sizeof(*ps), 0);
	ps->profiling = 0;
	ps->trap = skiff_trap_get(L);
	luaL_setfuncs(L, l, 3);
	return 1;
}
