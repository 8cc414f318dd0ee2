-- the debug protocol, tracing, inject.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_debug", function()
	local e = skynet.newservice "t_echo"
	local kb = skynet.call(e, "debug", "MEM")
	T.ok(type(kb) == "number" and kb > 0, "MEM")
	skynet.send(e, "debug", "GC")
	local stat = skynet.call(e, "debug", "STAT")
	T.ok(stat.message >= 1 and stat.mqlen >= 0 and stat.task >= 0 and type(stat.cpu) == "number", "STAT")

	-- TASK / UNIQTASK show a thread blocked inside e
	local e2 = skynet.newservice "t_echo"
	skynet.call(e, "lua", "callhold", e2, "t")
	T.eventually(function() return skynet.call(e2, "lua", "pending", "t") == true end, "hold arrives")
	local tasks = skynet.call(e, "debug", "TASK")
	local n, name = 0, nil
	for k, tb in pairs(tasks) do
		n = n + 1
		name = string.match(k, "^(thread: %S+)")
		T.ok(string.find(tb, "stack traceback", 1, true), "TASK traceback")
	end
	T.eq(n, 1, "one pending task")
	local uniq = skynet.call(e, "debug", "UNIQTASK")
	T.ok(next(uniq) ~= nil, "UNIQTASK")
	T.eq(skynet.call(e, "debug", "KILLTASK", name), name, "KILLTASK")
	T.eq(skynet.call(e, "debug", "KILLTASK", "thread: nope"), "Not found", "KILLTASK missing")
	T.eq(next(skynet.call(e, "debug", "TASK")), nil, "task gone")

	-- INFO goes to skynet.info_func
	local info = skynet.call(e, "debug", "INFO", "a", 1)
	T.eq(info.info, "t_echo", "INFO") T.eq(info.args[2], 1, "INFO args")

	-- RUN: injected code sees the service's upvalues and prints back
	local ok, out = skynet.call(e, "debug", "RUN", [[
		local store = _P.lua.cmd and nil
		print("hello", 1 + 1)
		local skynet = require "skynet"
		print(skynet.self())
	]], "inject.lua")
	T.eq(ok, true, "RUN ok")
	T.eq(out, "hello\t2\n" .. tostring(e), "RUN output")
	local ok2, out2 = skynet.call(e, "debug", "RUN", "error('injected failure')", "bad.lua")
	T.eq(ok2, false, "RUN error") T.ok(string.find(out2, "injected failure", 1, true), "RUN error text")
	local ok3, out3 = skynet.call(e, "debug", "RUN", "this is not lua", "syntax.lua")
	T.eq(ok3, false, "RUN syntax error")

	T.eq(skynet.call(e, "debug", "SUPPORT", "lua"), true, "SUPPORT lua")
	T.eq(skynet.call(e, "debug", "SUPPORT", "text"), false, "SUPPORT text")
	T.eq(select("#", skynet.call(e, "debug", "PING")), 0, "PING")
	local u1, u2 = skynet.call(e, "debug", "NO_SUCH_CMD")
	T.eq(u1, nil, "unknown debug command") T.ok(u2, "unknown debug command message")

	-- extension commands
	require("skynet.debug").reg_debugcmd("HELLO", function(x) skynet.retpack("hi " .. x) end)
	T.eq(skynet.call(skynet.self(), "debug", "HELLO", "me"), "hi me", "reg_debugcmd")

	-- TERM: e forgets a call it waits on
	local held_fail
	skynet.call(e, "lua", "callhold", e2, "u")
	T.eventually(function() return skynet.call(e2, "lua", "pending", "u") == true end, "hold arrives")
	skynet.call(e, "debug", "TERM", e2)
	T.eventually(function() return next(skynet.call(e, "debug", "TASK")) == nil end, "TERM failed the pending call")

	-- tracing: the tag follows our call into e
	T.eq(skynet.tracetag(), nil, "no tag yet")
	skynet.trace("test")
	local tag = skynet.tracetag()
	T.ok(string.match(tag, "^:%x+%-%d+$"), "trace tag format")
	T.eq(skynet.call(e, "lua", "tracetag"), tag, "tag propagated")
	skynet.call(e, "debug", "TRACELOG", "lua", true)
	local forced
	skynet.fork(function() forced = skynet.call(e, "lua", "tracetag") end) -- an untraced thread
	T.eventually(function() return forced ~= nil end, "forced trace answered")
	T.ok(forced and forced ~= tag, "traceproto on: callee starts its own trace")
	skynet.call(e, "debug", "TRACELOG", false)
	T.ok(not skynet.call(e, "lua", "tracetag"), "traceproto off")

	-- a protocol class that carries trace = true traces from the first request
	skynet.register_protocol { name = "traced", id = 200, pack = skynet.pack, unpack = skynet.unpack }
	local traced = skynet.newservice "t_traced"
	local ttag
	skynet.fork(function() ttag = skynet.call(traced, "traced") end) -- an untraced thread
	T.eventually(function() return ttag ~= nil end, "class trace answered")
	T.ok(ttag and string.match(ttag, "^" .. skynet.address(traced) .. "%-%d+$"), "class trace flag starts a trace")

	-- tracecall: the tag rides ahead of a raw call (tracing back to optional)
	skynet.call(e, "debug", "TRACELOG", "lua", nil)
	local tmsg, tsz = skynet.tracecall("mytag", e, "lua", skynet.pack("tracetag"))
	T.eq(skynet.unpack(tmsg, tsz), "mytag", "tracecall tag reaches the callee")
	skynet.tracelog("mytag", "a user trace line")

	-- trace_timeout: a timeout thread's creation point shows in task()
	skynet.trace_timeout(true)
	local tco = skynet.timeout(1000, function() end)
	local tasks2 = {}
	skynet.task(tasks2)
	local with_origin = false
	for k, tb in pairs(tasks2) do
		if string.find(k, tostring(tco), 1, true) and string.find(tb, "test_debug.lua", 1, true) then
			with_origin = true
		end
	end
	T.ok(with_origin, "trace_timeout records where the timeout was made")
	skynet.killthread(tco)
	skynet.trace_timeout(false)

	-- unknown requests without a session go to the unknown-request handler
	local unknown_type
	local prev = skynet.dispatch_unknown_request(function(session, source, msg, sz, prototype)
		unknown_type = prototype
	end)
	T.eq(type(prev), "function", "previous handler returned")
	skynet.register_protocol { name = "custom2", id = 101, pack = skynet.pack }
	skynet.send(skynet.self(), "custom2", "x")
	T.eventually(function() return unknown_type ~= nil end, "unknown request seen")
	T.eq(unknown_type, 101, "unknown request handler")
	skynet.dispatch_unknown_request(prev)

	-- EXIT
	skynet.send(e, "debug", "EXIT")
	T.eventually(function() return not pcall(skynet.call, e, "lua", "echo") end, "debug EXIT")
end)
