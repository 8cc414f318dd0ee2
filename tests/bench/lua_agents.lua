-- 100,000 idle agents (one Lua service per player) in one node: total RSS,
-- and RSS and Lua heap per agent.  Full scale needs ~10 GiB of free memory.
local skynet = require "skynet"
local memory = require "skynet.memory"
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(100000)
	local rss0 = B.rss_kib()
	local lua0 = memory.total()
	local handles = {}
	local t0 = B.clock()
	local width = 100
	B.parallel(width, function(k)
		for i = k, n, width do
			handles[i] = skynet.newservice "lua_spawn_child"
		end
	end)
	local dt = B.clock() - t0
	local rss1 = B.rss_kib()
	local lua1 = memory.total()
	B.report("agents_rss_total", rss1 / 1024 / 1024, "GiB", string.format("(process RSS with %d idle agents)", n))
	B.report("agents_rss_per_agent", (rss1 - rss0) / n, "KiB", "(RSS growth / agents)")
	B.report("agents_lua_heap_per_agent", (lua1 - lua0) / n / 1024, "KiB", "(Lua heap / agents)")
	B.report("agents_spawn", n / dt, "services/s", string.format("(%d services, %.2fs)", n, dt))
end)
