-- Spawning 10,000 services: services per second, and memory per live service.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(10000)
	local width = 100 -- launches in flight
	local handles, dt, rss, heap = B.spawn("lua_spawn_child", n, width)
	B.report("spawn", n / dt, "services/s", string.format("(%d services, %.2fs)", n, dt))
	B.report("spawn_rss_per_service", rss / n, "KiB", "(process RSS growth / live services)")
	B.report("spawn_lua_heap_per_service", heap / n, "KiB", "(Lua state of an idle service)")
	local t0 = B.clock()
	B.parallel(width, function(k)
		for i = k, n, width do
			skynet.call(handles[i], "lua", "exit")
		end
	end)
	dt = B.clock() - t0
	B.report("exit", n / dt, "services/s", string.format("(%d services, %.2fs)", n, dt))
end)
