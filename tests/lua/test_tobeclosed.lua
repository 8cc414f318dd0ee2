-- To-be-closed variables of service threads (the cases of skynet's to-be-closed
-- script, with assertions instead of log lines): a thread that ends with an error
-- closes its pending `<close>` variables with that error (a lock held by a
-- guard is released); threads still parked when the service exits are closed
-- without one.
local skynet = require "skynet"
local T = require "testlib"

local closed = {}   -- name -> error text, or false

skynet.dispatch("lua", function(_, _, cmd, name, err)
	if cmd == "closed" then
		T.ok(closed[name] == nil, "closed twice: " .. tostring(name))
		closed[name] = err
	end
end)

T.main("test_tobeclosed", function()
	-- 1. in this service: a lock whose guard is a <close> variable
	local held = false
	local function lock()
		T.ok(not held, "lock is free")
		held = true
		return setmetatable({}, { __close = function(_, err)
			held = false
			closed.lock = err and tostring(err) or false
		end })
	end
	skynet.fork(function()
		local l <close> = lock()
		error("failed while holding the lock")
	end)
	T.eventually(function() return closed.lock ~= nil end, "lock guard closed")
	T.ok(not held, "lock released after the error")
	T.ok(string.find(closed.lock, "failed while holding the lock", 1, true), "guard got the error: " .. tostring(closed.lock))
	do local l <close> = lock() end  -- and it can be taken again
	T.eq(closed.lock, false, "a normal close gets no error")

	-- the same for a request handler that fails: the caller gets an error too
	local helper = skynet.newservice("t_tobeclosed", skynet.self())
	T.raises("call failed", skynet.call, helper, "lua", "fail")
	T.eventually(function() return closed.dispatch_error ~= nil end, "dispatch guard closed")
	T.ok(string.find(closed.dispatch_error, "dispatch failed", 1, true), "dispatch guard error: " .. tostring(closed.dispatch_error))

	-- 2. a forked thread that fails
	T.eventually(function() return closed.fork_error ~= nil end, "fork guard closed")
	T.ok(string.find(closed.fork_error, "fork failed", 1, true), "fork guard error: " .. tostring(closed.fork_error))

	-- 3. threads parked in wait/call are closed, without an error, at exit
	T.eq(closed.fork_wait, nil, "parked thread still open before exit")
	skynet.send(helper, "lua", "exit")
	T.eventually(function()
		return closed.fork_wait ~= nil and closed.fork_call ~= nil and closed.dispatch_wait ~= nil
	end, "parked guards closed at exit")
	T.eq(closed.fork_wait, false, "fork_wait closed without error")
	T.eq(closed.fork_call, false, "fork_call closed without error")
	T.eq(closed.dispatch_wait, false, "dispatch_wait closed without error")
end)
