-- skynet.coroutine: user coroutines that may block in skynet calls.
local skynet = require "skynet"
local coroutine = require "skynet.coroutine"
local T = require "testlib"

T.main("test_coroutine", function()
	local e = skynet.newservice "t_echo"

	-- a generator that calls a service between yields
	local co = coroutine.create(function(n)
		for i = 1, n do
			local v = skynet.call(e, "lua", "echo", i * 10)
			local got = coroutine.yield(v)
			T.eq(got, "ack" .. i, "resume value")
		end
		return "done"
	end)
	local ok, v = coroutine.resume(co, 3)
	T.eq(ok, true, "resume 1") T.eq(v, 10, "value 1")
	ok, v = coroutine.resume(co, "ack1") T.eq(v, 20, "value 2")
	ok, v = coroutine.resume(co, "ack2") T.eq(v, 30, "value 3")
	ok, v = coroutine.resume(co, "ack3")
	T.eq(ok, true, "finished") T.eq(v, "done", "return value")
	T.eq(coroutine.status(co), "dead", "dead")
	T.eq(coroutine.resume(co), false, "resume a dead coroutine")
	T.same({ coroutine.resume(coroutine.running()) }, { false, "cannot resume none skynet coroutine" },
		"a skynet thread is not resumed by user code")
	local none = coroutine.wrap(function() coroutine.yield() end)
	T.eq(select("#", none()), 0, "yield of nothing gives nothing")
	T.eq(select("#", none()), 0, "return of nothing gives nothing (no nil)")

	-- sleep inside a user coroutine
	local t0 = skynet.now()
	local w = coroutine.wrap(function() skynet.sleep(5) coroutine.yield("slept") return "end" end)
	T.eq(w(), "slept", "wrap yield") T.eq(w(), "end", "wrap return")
	T.ok(skynet.now() - t0 >= 5, "slept inside")

	-- errors come back as (false, err); wrap raises
	local bad = coroutine.create(function() error("user error") end)
	local bok, berr = coroutine.resume(bad)
	T.eq(bok, false, "error result") T.ok(string.find(berr, "user error", 1, true), "error message")
	T.raises("wrapped error", coroutine.wrap(function() error("wrapped error") end))

	-- status "blocked" while the coroutine waits in a skynet call
	local blocked_co
	blocked_co = coroutine.create(function() skynet.call(e, "lua", "sleep", 5) return "back" end)
	local result
	skynet.fork(function() result = table.pack(coroutine.resume(blocked_co)) end)
	skynet.yield()
	T.eq(coroutine.status(blocked_co), "blocked", "blocked status")
	local rok = coroutine.resume(blocked_co)
	T.eq(rok, false, "can't resume a blocked coroutine")
	skynet.sleep(10)
	T.eq(result[2], "back", "continued after the call")

	-- thread(): the skynet thread a coroutine runs under
	local root = coroutine.running()
	local inner = coroutine.create(function()
		local r, main = coroutine.thread()
		coroutine.yield(r, main)
	end)
	local _, r, main = coroutine.resume(inner)
	T.eq(r, root, "root thread") T.eq(main, false, "not main")
	local r2, main2 = coroutine.thread()
	T.eq(r2, root, "a skynet thread is its own root") T.eq(main2, true, "is main")
	T.eq(coroutine.isyieldable(), true, "isyieldable")
	T.eq(coroutine.running(), root, "running")
end)
