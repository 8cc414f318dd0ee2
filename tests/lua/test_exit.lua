-- skynet.exit: pending callers, held responses, LINK, newservice outcomes.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_exit", function()
	local e = skynet.newservice "t_echo"
	local results = {}
	skynet.fork(function() results.hold = pcall(skynet.call, e, "lua", "hold") end)
	skynet.fork(function() results.sleep = pcall(skynet.call, e, "lua", "sleep", 500) end)
	skynet.fork(function() results.link = pcall(skynet.call, e, "debug", "LINK") end)
	T.eventually(function() return skynet.call(e, "lua", "pending") == true end, "hold arrives")
	-- exit inside a call: that caller fails too
	T.raises("call failed", skynet.call, e, "lua", "exit")
	T.eventually(function() return results.hold ~= nil and results.sleep ~= nil and results.link ~= nil end,
		"every pending call ends")
	T.eq(results.hold, false, "held response failed on exit")
	T.eq(results.sleep, false, "caller of a sleeping handler failed on exit")
	T.eq(results.link, false, "debug LINK fails on exit")
	T.ok(not pcall(skynet.call, e, "lua", "echo", 1), "calls after exit fail")

	-- a service exiting in its start function: newservice returns nil
	T.eq(skynet.newservice "t_exit_at_start", nil, "exit during start")
	-- a service whose start raises: newservice raises
	T.raises("call failed", skynet.newservice, "t_error_at_start")
	-- a file that doesn't exist
	T.raises("call failed", skynet.newservice, "t_no_such_service_file")
	-- a service blocked in a call when it exits tells the callee (no leak there)
	local a = skynet.newservice "t_echo"
	local b = skynet.newservice "t_echo"
	skynet.call(a, "lua", "callhold", b, "x")
	T.eventually(function() return skynet.call(b, "lua", "pending", "x") == true end, "hold arrives")
	skynet.send(a, "lua", "exit")
	T.eventually(function() return skynet.call(b, "lua", "pending", "x") == false end,
		"callee dropped the response owed to the dead caller")
end)
