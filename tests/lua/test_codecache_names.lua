-- What debug information a service sees of code loaded through the code cache.
-- With shared bytecode (-Dlua=system) the cache drops local variable names from
-- the runtime's own Lua library (lualib/, ~8 KiB of every service) and nothing
-- else; with shared prototypes (-Dlua=skiff) every name stays (one copy for
-- the process). Either way errors raised inside skynet.lua still name their
-- file and line, upvalue names are there (the debug console's inject finds
-- skynet.lua's internals by them), and a service's own files keep their local
-- names.
local skynet = require "skynet"
local codecache = require "skynet.codecache"
local T = require "testlib"

T.main("test_codecache_names", function()
	local s = skynet.newservice "t_codecache_names"
	local r = skynet.call(s, "lua")
	T.eq(r.call_ok, false, "a call with an unknown protocol raises")
	T.ok(string.find(r.call_error, "skynet.lua:%d+: "), "the error names skynet.lua and its line: " .. r.call_error)
	T.ok(string.find(" " .. r.ret_upvalues .. " ", " request_session ", 1, true),
		"skynet.ret's upvalues keep their names: " .. r.ret_upvalues)
	if codecache.shared then
		T.eq(r.call_param, "addr", "shared prototypes keep skynet.call's parameter names")
	else
		T.eq(r.call_param, false, "skynet.call's parameters have no names in a cached load")
	end
	T.eq(r.own_local, "own", "the service's own file keeps its local names")
	T.eq(r.own_value, 1, "and their values")
end)
