-- Benchmark driver (tests/bench/cluster.bench.py): sequential cluster.call
-- round trips, then one-way cluster.send throughput, to node b; then exits.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
require "skynet.manager"

skynet.start(function()
	local calls = tonumber(skynet.getenv "cl_calls")
	local sends = tonumber(skynet.getenv "cl_sends")
	cluster.call("b", "@echo", "echo", 0) -- connect
	local t0 = skynet.hpc()
	for i = 1, calls do cluster.call("b", "@echo", "echo", i) end
	local dt = (skynet.hpc() - t0) / 1e9
	skynet.error(string.format("CLBENCH call %d %.2f us/call %.0f calls/s", calls, dt * 1e6 / calls,
		calls / dt))
	t0 = skynet.hpc()
	for i = 1, sends do cluster.send("b", "@echo", "seq", "bench", i) end
	local _, disorder, last = cluster.call("b", "@echo", "stats", "bench")
	dt = (skynet.hpc() - t0) / 1e9
	assert(disorder == 0 and last == sends)
	skynet.error(string.format("CLBENCH send %d %.0f msgs/s", sends, sends / dt))
	skynet.abort()
end)
