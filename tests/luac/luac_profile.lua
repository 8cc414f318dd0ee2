-- skynet.profile, and the coroutine.resume / wrap snlua installs.
local skynet = require "skynet"
local profile = require "skynet.profile"
local t = require "luac_t"

local function busy(sec)
	local t0, x = os.clock(), 0
	while os.clock() - t0 < sec do x = x + 1 end
	return x
end

t.run("profile", function()
	t.eq(coroutine.resume, profile.resume, "coroutine.resume replaced")
	t.eq(coroutine.wrap, profile.wrap, "coroutine.wrap replaced")

	-- time while suspended in skynet.sleep does not count
	profile.start()
	busy(0.05)
	skynet.sleep(30)
	busy(0.05)
	local ti = profile.stop()
	t.ok(ti >= 0.08 and ti < 0.25, "cpu time of this coroutine: " .. ti)
	t.raises("Call profile.start() before profile.stop()", profile.stop)
	profile.start()
	t.raises("start profile more than once", profile.start)
	profile.stop()

	-- profiling another coroutine from outside
	local co2 = coroutine.create(function()
		busy(0.03)
		coroutine.yield()
		busy(0.03)
	end)
	profile.start(co2)
	t.ok(coroutine.resume(co2), "resume 1")
	skynet.sleep(10)
	t.ok(coroutine.resume(co2), "resume 2")
	local t2 = profile.stop(co2)
	t.ok(t2 >= 0.05 and t2 < 0.2, "cpu time of another coroutine: " .. t2)

	-- resume keeps coroutine.resume's contract
	local co = coroutine.create(function(a)
		local b = coroutine.yield(a + 1)
		return b * 2, "done"
	end)
	local ok, v = coroutine.resume(co, 1)
	t.eq(ok, true) t.eq(v, 2)
	local ok2, v2, v3 = coroutine.resume(co, 10)
	t.eq(ok2, true) t.eq(v2, 20) t.eq(v3, "done")
	local ok3, e3 = coroutine.resume(co)
	t.eq(ok3, false) t.eq(e3, "cannot resume dead coroutine")
	local ok4, e4 = coroutine.resume(coroutine.running())
	t.eq(ok4, false) t.eq(e4, "cannot resume non-suspended coroutine")
	local bad = coroutine.create(function() error("inner boom") end)
	local ok5, e5 = coroutine.resume(bad)
	t.eq(ok5, false) t.ok(e5:find("inner boom"), "error message")
	t.raises("coroutine expected", coroutine.resume, 42)

	-- wrap: values through, errors raised with the caller's position
	local w = coroutine.wrap(function(a)
		local b = coroutine.yield(a)
		error("wrapped boom " .. b)
	end)
	t.eq(w(5), 5)
	t.raises("wrapped boom 6", w, 6)
	t.raises("cannot resume dead coroutine", w)
	local closed = false
	local w2 = coroutine.wrap(function()
		local guard <close> = setmetatable({}, { __close = function() closed = true end })
		coroutine.yield()
		error("x")
	end)
	w2()
	t.ok(not pcall(w2), "w2 raised")
	t.ok(closed, "to-be-closed variable closed when a wrapped coroutine dies")
	local wt = coroutine.wrap(function() error({ code = 7 }) end)
	local okt, et = pcall(wt)
	t.ok(not okt and type(et) == "table" and et.code == 7, "non-string error passes unchanged")

	-- wrap also profiles
	local wp = coroutine.wrap(function() busy(0.03) coroutine.yield() end)
	profile.start()
	wp()
	t.ok(profile.stop() >= 0.025, "nested run counts towards the resumer")
end)
