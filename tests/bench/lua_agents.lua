-- 100,000 idle agents (one Lua service per player) in one node: total RSS,
-- and RSS and Lua heap per agent.  Full scale needs ~10 GiB of free memory.
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(100000)
	local _, dt, rss, heap = B.spawn("lua_spawn_child", n, 100)
	B.report("agents_rss_total", B.rss_kib() / 1024 / 1024, "GiB", string.format("(process RSS with %d idle agents)", n))
	B.report("agents_rss_per_agent", rss / n, "KiB", "(RSS growth / agents)")
	B.report("agents_lua_heap_per_agent", heap / n, "KiB", "(Lua heap / agents)")
	B.report("agents_spawn", n / dt, "services/s", string.format("(%d services, %.2fs)", n, dt))
end)
