/*
 * lua-metrics.c — `skynet.metrics`: the runtime's counters for the metrics
 * endpoint and the console.
 *
 *   local metrics = require "skynet.metrics"
 *   metrics.collect([topn]) -> {
 *     services = n, messages = n, cpu = seconds, timer_events = n, overloads = n,
 *     modules = { {name=, services=, messages=, cpu=}, ... },
 *     queues = { {handle=, length=, module=}, ... },   -- longest first
 *   }
 */
#include <lauxlib.h>
#include <lua.h>

#include "preload.h"
#include "skynet_metrics.h"

static void setint(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void setnum(lua_State *L, const char *k, lua_Number v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

static int lcollect(lua_State *L)
{
	int topn = (int)luaL_optinteger(L, 1, 10);
	struct skynet_metrics m;
	skynet_metrics_collect(&m, topn);
	lua_createtable(L, 0, 7);
	setint(L, "services", m.services);
	setint(L, "messages", (lua_Integer)m.messages);
	setnum(L, "cpu", (lua_Number)m.cpu_us / 1e6);
	setint(L, "timer_events", (lua_Integer)m.timer_events);
	setint(L, "overloads", (lua_Integer)m.overloads);
	lua_createtable(L, m.nmodule, 0);
	for (int i = 0; i < m.nmodule; i++) {
		lua_createtable(L, 0, 4);
		lua_pushstring(L, m.module[i].name);
		lua_setfield(L, -2, "name");
		setint(L, "services", m.module[i].services);
		setint(L, "messages", (lua_Integer)m.module[i].messages);
		setnum(L, "cpu", (lua_Number)m.module[i].cpu_us / 1e6);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "modules");
	lua_createtable(L, m.nqueue, 0);
	for (int i = 0; i < m.nqueue; i++) {
		lua_createtable(L, 0, 3);
		setint(L, "handle", m.queue[i].handle);
		setint(L, "length", m.queue[i].length);
		lua_pushstring(L, m.queue[i].module);
		lua_setfield(L, -2, "module");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "queues");
	return 1;
}

int luaopen_skynet_metrics(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "collect", lcollect },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
