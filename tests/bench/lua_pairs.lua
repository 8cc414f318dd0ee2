-- 4 and 16 caller/echo pairs calling in parallel: total round trips per second.
local skynet = require "skynet"
local B = require "lua_benchlib"

local function run(pairs_count)
	local callers = {}
	for i = 1, pairs_count do
		callers[i] = skynet.newservice "lua_pair_caller"
	end
	local n = B.n(1600000) // pairs_count
	local t0 = B.clock()
	B.parallel(pairs_count, function(i)
		skynet.call(callers[i], "lua", "run", n)
	end)
	local dt = B.clock() - t0
	B.report(string.format("call_pairs_%d", pairs_count), n * pairs_count / dt, "calls/s",
		string.format("(%d pairs x %d calls, %.2fs)", pairs_count, n, dt))
end

B.main(function()
	run(4)
	run(16)
end)
