-- Spawn N services from one file through .launcher; log time and memory.
local skynet = require "skynet"
local memory = require "skynet.memory"
local t = require "luac_t"

local n = tonumber((...)) or 1000

t.run("spawn", function()
	collectgarbage()
	local before = memory.total()
	local t0, cpu0 = skynet.hpc(), os.clock()
	local list = {}
	for i = 1, n do
		list[i] = skynet.newservice("luac_child")
	end
	local dt, cpu = (skynet.hpc() - t0) / 1e9, os.clock() - cpu0
	local after = memory.total()
	skynet.error(string.format(
		"LUAC_SPAWN %d services in %.3f s: %.1f us each (process CPU %.1f us each), %.1f KiB Lua memory each (cache %s)",
		n, dt, dt * 1e6 / n, cpu * 1e6 / n, (after - before) / n / 1024, skynet.cache.mode()))
	t.eq(#list, n, "all launched")
	t.eq(list[n] - list[1], n - 1, "consecutive handles")
end)
