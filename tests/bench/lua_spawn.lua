-- Spawning 10,000 services: services per second, and memory per live service.
local skynet = require "skynet"
local memory = require "skynet.memory"
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(10000)
	local rss0 = B.rss_kib()
	local lua0 = memory.total()
	local handles = {}
	local t0 = B.clock()
	local width = 100 -- launches in flight
	B.parallel(width, function(k)
		for i = k, n, width do
			handles[i] = skynet.newservice "lua_spawn_child"
		end
	end)
	local dt = B.clock() - t0
	local rss1 = B.rss_kib()
	local lua1 = memory.total()
	B.report("spawn", n / dt, "services/s", string.format("(%d services, %.2fs)", n, dt))
	B.report("spawn_rss_per_service", (rss1 - rss0) / n, "KiB", "(process RSS growth / live services)")
	B.report("spawn_lua_heap_per_service", (lua1 - lua0) / n / 1024, "KiB", "(Lua state of an idle service)")
	t0 = B.clock()
	B.parallel(width, function(k)
		for i = k, n, width do
			skynet.call(handles[i], "lua", "exit")
		end
	end)
	dt = B.clock() - t0
	B.report("exit", n / dt, "services/s", string.format("(%d services, %.2fs)", n, dt))
end)
