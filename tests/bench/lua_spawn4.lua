-- Spawning 10,000 services from four spawner services at once (a login storm
-- handled by several gates): services per second over the whole burst.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local n = B.n(10000)
	local spawners = {}
	for i = 1, 4 do
		spawners[i] = skynet.newservice "lua_spawner"
	end
	local each = n // 4
	local got = {}
	local t0 = B.clock()
	B.parallel(4, function(k)
		got[k] = skynet.call(spawners[k], "lua", "spawn", each, 25)
	end)
	local dt = B.clock() - t0
	B.report("spawn4", 4 * each / dt, "services/s", string.format("(%d services from 4 spawners, %.2fs)", 4 * each, dt))
	B.parallel(4, function(k)
		skynet.call(spawners[k], "lua", "exit", got[k], 25)
	end)
end)
