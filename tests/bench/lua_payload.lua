-- Round trips carrying a string payload both ways: 1 KiB, 64 KiB, 1 MiB.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local echo = skynet.newservice "lua_bench_echo"
	for _, case in ipairs { { "1KiB", 1024, 100000 }, { "64KiB", 65536, 10000 }, { "1MiB", 1048576, 500 } } do
		local name, size, full = case[1], case[2], case[3]
		local payload = string.rep("x", size)
		local n = B.n(full)
		local t0 = B.clock()
		for _ = 1, n do
			local _, back = skynet.call(echo, "lua", "p", payload)
			assert(#back == size)
		end
		local dt = B.clock() - t0
		B.report("payload_" .. name, n / dt, "calls/s",
			string.format("(%d calls, %.1f MiB/s each way)", n, n * size / dt / 1048576))
	end
end)
