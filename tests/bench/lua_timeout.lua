-- 100,000 timeouts of 1..100 cs: how long until all fired, and how many
-- ticks after its due time each one ran.
--
-- With delays up to 100 ticks the last timer is due 1.00 s after it is armed,
-- so "all fired" can never be under 1 s plus the time to arm them.  What the
-- runtime adds is reported apart:
--   timeouts_arm              time to arm all of them (one handler, no yield)
--   timeouts_after_last_due   from the latest due time to the last firing
-- Lateness counts from the tick each timer was due.  When all are armed in one
-- handler, timers that fall due meanwhile wait for the handler to finish, so
-- the same run is repeated with arming split into messages of 1,000
-- (skynet.yield between): that lateness is the timer wheel's own.
local skynet = require "skynet"
local B = require "lua_benchlib"

local function run(n, chunk)
	local fired, late_sum, late_max = 0, 0, 0
	local last_due = 0 -- in skynet.now() ticks
	local me = coroutine.running()
	local t0 = B.clock()
	local now0 = skynet.now()
	for i = 1, n do
		local ti = 1 + (i * 7919) % 100 -- 1..100 cs, spread evenly
		local due = skynet.now() + ti -- lateness counts from when it was scheduled
		if due > last_due then last_due = due end
		skynet.timeout(ti, function()
			local late = skynet.now() - due
			late_sum = late_sum + late
			if late > late_max then late_max = late end
			fired = fired + 1
			if fired == n then skynet.wakeup(me) end
		end)
		if chunk and i % chunk == 0 then skynet.yield() end
	end
	local arm = B.clock() - t0
	skynet.wait(me)
	local dt = B.clock() - t0
	local end_tick = skynet.now()
	return {
		dt = dt, arm = arm,
		-- ticks are 10 ms; the clock gives the sub-tick part of the start
		after_due = dt - (last_due - now0) / 100,
		late_avg = late_sum / n, late_max = late_max, ticks = end_tick - now0,
	}
end

B.main(function()
	local n = B.n(100000)
	local r = run(n)
	B.report("timeouts_all_fired", r.dt, "s", string.format("(%d timeouts due within 1.00 s of arming)", n))
	B.report("timeouts_arm", r.arm, "s", "(arming all in one handler)")
	B.report("timeouts_after_last_due", r.after_due, "s", "(last firing minus the latest due time)")
	B.report("timeouts_late_avg", r.late_avg, "ticks", "(1 tick = 1 cs; armed in one handler)")
	B.report("timeouts_late_max", r.late_max, "ticks")
	r = run(n, 1000)
	B.report("timeouts_chunked_all_fired", r.dt, "s", "(armed 1,000 per message)")
	B.report("timeouts_chunked_late_avg", r.late_avg, "ticks")
	B.report("timeouts_chunked_late_max", r.late_max, "ticks")
end)
