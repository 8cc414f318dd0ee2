-- skynet.manager extras, env, stat.
local skynet = require "skynet"
require "skynet.manager"
local T = require "testlib"

T.main("test_manager", function()
	-- forward_type: messages of a mapped type reach another protocol's dispatcher
	local f = skynet.newservice "t_forward"
	skynet.register_protocol { name = "system", id = skynet.PTYPE_SYSTEM, pack = skynet.pack, unpack = skynet.unpack }
	local cmd, x, seen = skynet.call(f, "system", "hello", 7)
	T.eq(cmd, "hello", "forwarded") T.eq(x, 7, "forwarded payload") T.eq(seen, 1, "count")
	T.eq(skynet.call(f, "lua", "plain"), "lua", "unmapped types dispatch normally")

	-- filter
	local fl = skynet.newservice "t_filter"
	local n1 = skynet.call(fl, "lua", "count")
	local n2 = skynet.call(fl, "lua", "count")
	T.ok(n1 >= 1 and n2 == n1 + 1, "filter sees every message")

	-- monitor: a global unique monitor hears about exits
	local m = skynet.monitor("t_monitor")
	T.eq(m, skynet.queryservice(true, "t_monitor"), "monitor is the global unique service")
	local doomed = skynet.newservice "t_echo"
	skynet.send(doomed, "lua", "exit")
	T.eventually(function() return skynet.call(m, "lua", "exited", doomed) end, "monitor notified")

	-- env is write-once
	T.eq(skynet.getenv "test_name", "test_manager", "getenv from config")
	T.eq(skynet.getenv "no_such_key", nil, "missing env")
	skynet.setenv("test_key", "v1")
	T.eq(skynet.getenv "test_key", "v1", "setenv")
	T.raises("Can't setenv exist key", skynet.setenv, "test_key", "v2")
	T.eq(skynet.getenv "harbor", "0", "harbor env")
	T.eq(skynet.getenv "standalone", "true", "bootstrap sets standalone")

	-- stat
	local m1 = skynet.stat "message"
	skynet.sleep(1)
	T.ok(skynet.stat "message" > m1, "message count grows")
	T.eq(skynet.mqlen(), 0, "empty queue")
	T.ok(type(skynet.stat "cpu") == "number", "cpu")
	T.eq(skynet.endless(), false, "not endless")
	T.ok(math.type(skynet.genid()) == "integer", "genid")

	-- pack/unpack helpers
	local s = skynet.packstring(1, "two", { 3 })
	local a, b, c = skynet.unpack(s)
	T.eq(a, 1, "packstring") T.eq(b, "two", "packstring 2") T.eq(c[1], 3, "packstring 3")
	local msg, sz = skynet.pack("x")
	T.eq(skynet.tostring(msg, sz), skynet.packstring("x"), "tostring")
	skynet.trash(msg, sz)
end)
