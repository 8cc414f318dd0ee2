-- timeout/sleep/yield/wait/wakeup/fork/killthread and their ordering rules.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_timer", function()
	-- skynet.trace_timeout: a pending timer's task entry says when and where it was set
	skynet.trace_timeout(true)
	local tco = skynet.timeout(500, function() end)
	local tasks = {}
	skynet.task(tasks)
	local tb
	for k, v in pairs(tasks) do
		if k:find(tostring(tco), 1, true) then tb = v end
	end
	T.ok(tb and tb:match("^TIMER %d+%+500 : "), "timer trace: " .. tostring(tb))
	T.ok(tb:find("test_timer.lua", 1, true), "timer trace names the caller: " .. tb)
	skynet.trace_timeout(false)
	local unknown = {}
	skynet.dispatch_unknown_response(function(session, source)
		unknown[#unknown + 1] = session
	end)

	-- forks run after the current thread yields, in creation order
	local order = {}
	skynet.fork(function() order[#order + 1] = "a" end)
	skynet.fork(function(x, y) order[#order + 1] = x .. y end, "b", "c")
	order[#order + 1] = "main"
	skynet.yield()
	T.same(order, { "main", "a", "bc" }, "fork order")

	-- sleep lasts at least its time
	local t0 = skynet.now()
	T.eq(skynet.sleep(20), nil, "sleep returns nothing")
	T.ok(skynet.now() - t0 >= 20, "slept 20cs")

	-- the clock does not wait for the timer thread, which sleeps until its
	-- next timer while the node idles: now() moves while this service
	-- computes, and a sleep through an idle stretch ends on time
	local h0, n0 = skynet.hpc(), skynet.now()
	while skynet.hpc() - h0 < 60 * 1000000 do end -- 60 ms on the CPU
	T.ok(skynet.now() - n0 >= 5, "now() advanced while busy: " .. (skynet.now() - n0) .. " cs")
	local i0 = skynet.now()
	skynet.sleep(150)
	local idle = skynet.now() - i0
	T.ok(idle >= 150 and idle < 250, "an idle sleep of 150 cs took " .. idle .. " cs")

	-- timeouts fire by expiry, not creation order
	local fired = {}
	skynet.timeout(30, function() fired[#fired + 1] = 30 end)
	skynet.timeout(10, function() fired[#fired + 1] = 10 end)
	skynet.timeout(20, function() fired[#fired + 1] = 20 end)
	skynet.timeout(0, function() fired[#fired + 1] = 0 end)
	skynet.sleep(45)
	T.same(fired, { 0, 10, 20, 30 }, "timeout order")

	-- wakeup order is the order of the wakeup calls
	local woke = {}
	local threads = {}
	for _, name in ipairs { "a", "b", "c" } do
		threads[name] = skynet.fork(function()
			skynet.wait()
			woke[#woke + 1] = name
		end)
	end
	skynet.yield()
	T.eq(skynet.wakeup(threads.c), true, "wakeup a waiting thread")
	T.eq(skynet.wakeup(threads.a), true, "wakeup a")
	T.eq(skynet.wakeup(threads.b), true, "wakeup b")
	skynet.yield()
	T.same(woke, { "c", "a", "b" }, "wakeup order")
	T.eq(skynet.wakeup(threads.a), false, "wakeup a thread that doesn't wait")

	-- wait with an explicit token
	local token = {}
	local got
	skynet.fork(function() skynet.wait(token) got = "token" end)
	skynet.yield()
	skynet.wakeup(token)
	skynet.yield()
	T.eq(got, "token", "wait(token)")

	-- a sleep broken by wakeup returns "BREAK"; its late timer is swallowed
	local r
	local sleeper = skynet.fork(function() r = skynet.sleep(30) end)
	skynet.yield()
	t0 = skynet.now()
	T.eq(skynet.wakeup(sleeper), true, "wakeup a sleeper")
	skynet.yield()
	T.eq(r, "BREAK", "sleep interrupted")
	T.ok(skynet.now() - t0 < 20, "interrupted early")
	skynet.sleep(40) -- the original timer fires now and must vanish quietly

	-- yield lets other ready threads run
	local ran = false
	skynet.fork(function() ran = true end)
	skynet.yield()
	T.eq(ran, true, "yield runs forks")

	-- killthread: a sleeping thread never continues
	local reached = false
	local victim = skynet.fork(function() skynet.sleep(20) reached = true end)
	skynet.yield()
	T.eq(skynet.killthread(victim), victim, "killthread returns the thread")
	skynet.sleep(30)
	T.eq(reached, false, "killed thread did not resume")
	-- a fork killed before it starts never runs
	local never = false
	local pending = skynet.fork(function() never = true end)
	T.eq(skynet.killthread(pending), pending, "kill a pending fork")
	skynet.yield()
	T.eq(never, false, "killed fork did not run")
	-- killing by name (substring of tostring(thread))
	local byname = skynet.fork(function() skynet.sleep(100) reached = true end)
	skynet.yield()
	T.eq(skynet.killthread(tostring(byname)), byname, "kill by name")
	T.eq(skynet.killthread("no such thread"), nil, "kill unknown name")
	-- a thread blocked in a call: the late reply is swallowed
	local e = skynet.newservice "t_echo"
	local incall = skynet.fork(function() skynet.call(e, "lua", "sleep", 10) reached = true end)
	skynet.yield()
	skynet.killthread(incall)
	skynet.sleep(20)
	T.eq(reached, false, "thread killed inside a call")

	-- a timeout with 0 runs at once (next turn)
	local zero = false
	skynet.timeout(0, function() zero = true end)
	skynet.sleep(1)
	T.eq(zero, true, "timeout 0")

	-- task(): waiting threads are counted and listed
	local w = skynet.fork(function() skynet.sleep(1000) end)
	skynet.yield()
	T.ok(skynet.task() >= 1, "task count")
	local tasks = {}
	skynet.task(tasks)
	local found = false
	for k, tb in pairs(tasks) do
		if string.find(k, tostring(w), 1, true) then found = tb end
	end
	T.ok(found and string.find(found, "sleep", 1, true), "task lists the sleeper with its traceback")
	local session = skynet.task(w)
	T.ok(math.type(session) == "integer", "task(thread) gives its session")
	T.ok(string.find(skynet.task(session), "traceback", 1, true), "task(session) gives a traceback")
	local uniq = skynet.uniqtask()
	local any = false
	for k in pairs(uniq) do if string.match(k, "^%d+\tsessions:%[") then any = true end end
	T.ok(any, "uniqtask keys")
	skynet.killthread(w)

	-- errors in forks don't stop the service
	skynet.fork(function() error("fork error (expected)") end)
	skynet.yield()
	T.eq(skynet.call(e, "lua", "echo", 1), 1, "still serving after a fork error")

	-- time functions
	T.ok(skynet.starttime() > 1600000000, "starttime")
	T.ok(math.abs(skynet.time() - os.time()) < 2, "time")
	local h1 = skynet.hpc()
	skynet.sleep(1)
	T.ok(skynet.hpc() > h1, "hpc increases")

	T.eq(#unknown, 0, "no unknown responses")
end)
