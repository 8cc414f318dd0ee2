-- 100,000 timeouts of 1..100 cs: how long until all fired, and how many
-- ticks after its due time each one ran.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(100000)
	local fired, late_sum, late_max = 0, 0, 0
	local me = coroutine.running()
	local t0 = B.clock()
	for i = 1, n do
		local ti = 1 + (i * 7919) % 100 -- 1..100 cs, spread evenly
		local due = skynet.now() + ti -- lateness counts from when it was scheduled
		skynet.timeout(ti, function()
			local late = skynet.now() - due
			late_sum = late_sum + late
			if late > late_max then late_max = late end
			fired = fired + 1
			if fired == n then skynet.wakeup(me) end
		end)
	end
	local setup = B.clock() - t0
	skynet.wait(me)
	local dt = B.clock() - t0
	B.report("timeouts_all_fired", dt, "s", string.format("(%d timeouts due within 1.00 s; %.3fs to schedule)", n, setup))
	B.report("timeouts_late_avg", late_sum / n, "ticks", "(1 tick = 1 cs)")
	B.report("timeouts_late_max", late_max, "ticks")
end)
