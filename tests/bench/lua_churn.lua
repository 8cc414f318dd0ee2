-- Spawn/exit churn: 1,000,000 services started and stopped by four spawners
-- (100 in flight), 1,000 idle services kept alive throughout.  RSS after the
-- first tenth against RSS at the end shows fragmentation: a runtime that
-- gives its memory back stays flat.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(1000000)
	if B.scale < 1 then n = math.max(2000, n // 5) end -- quick mode: seconds, not minutes
	local first = n // 10
	local spawners = {}
	for i = 1, 4 do
		spawners[i] = skynet.newservice "lua_spawner"
	end
	local idle = skynet.call(spawners[1], "lua", "spawn", 1000, 25)
	local function churn(count)
		local each = count // 4
		B.parallel(4, function(k)
			skynet.call(spawners[k], "lua", "churn", each, 25)
		end)
		return 4 * each
	end
	local t0 = B.clock()
	local done = churn(first)
	local rss_first = B.rss_kib()
	done = done + churn(n - done)
	local dt = B.clock() - t0
	local rss_end = B.rss_kib()
	B.report("churn", done / dt, "services/s", string.format("(%d spawned and stopped, %.1fs)", done, dt))
	B.report("churn_rss_first", rss_first / 1024, "MiB", string.format("(RSS after %d)", first))
	B.report("churn_rss_end", rss_end / 1024, "MiB", string.format("(RSS after %d)", done))
	B.report("churn_rss_growth", (rss_end - rss_first) * 100 / rss_first, "%", "(goal: within 5%)")
	skynet.call(spawners[1], "lua", "exit", idle, 25)
end)
