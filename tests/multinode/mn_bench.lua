-- Benchmark driver for tests/bench/harbor.bench.py, started on node 2 of a
-- two-node cluster (node 1 runs mn_node with role idle, whose NODE1 echoes).
-- Config keys: bench_calls, bench_msgs.  Prints "HBENCH ..." lines, then aborts.
local skynet = require "skynet"
require "skynet.manager"
local harbor = require "skynet.harbor"

local calls = tonumber(skynet.getenv "bench_calls" or 20000)
local msgs = tonumber(skynet.getenv "bench_msgs" or 200000)

local function rtt(target, size)
	local payload = string.rep("x", size)
	local lat = {}
	for i = 1, 200 do skynet.call(target, "lua", "echo", payload) end -- warm up
	local t0 = skynet.hpc()
	for i = 1, calls do
		local t = skynet.hpc()
		skynet.call(target, "lua", "echo", payload)
		lat[i] = skynet.hpc() - t
	end
	local total = (skynet.hpc() - t0) / 1e9
	table.sort(lat)
	local sum = 0
	for i = 1, calls do sum = sum + lat[i] end
	skynet.error(string.format("HBENCH RTT %d %.0f calls/s mean %.1f us p99 %.1f us", size,
		calls / total, sum / calls / 1e3, lat[math.ceil(calls * 0.99)] / 1e3))
end

local function oneway(target, size)
	local payload = string.rep("x", size)
	skynet.call(target, "lua", "echo", "sync")
	local t0 = skynet.hpc()
	for i = 1, msgs do
		skynet.send(target, "lua", "sink", payload)
		if i % 1000 == 0 then skynet.yield() end
	end
	skynet.call(target, "lua", "echo", "sync") -- ordered after every send
	local total = (skynet.hpc() - t0) / 1e9
	skynet.error(string.format("HBENCH ONEWAY %d %.0f msgs/s", size, msgs / total))
end

skynet.start(function()
	local target = harbor.queryname("NODE1")
	for _, size in ipairs { 64, 1024 } do
		rtt(target, size)
		oneway(target, size)
	end
	skynet.error("HBENCH DONE")
	skynet.abort()
end)
