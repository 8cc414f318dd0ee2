-- Call round trips between two services: one caller thread, one echo.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local echo = skynet.newservice "lua_bench_echo"
	local call = skynet.call
	for _ = 1, 1000 do call(echo, "lua", "ping", 1) end -- warm up
	local n = B.n(300000)
	local t0 = B.clock()
	for i = 1, n do
		call(echo, "lua", "ping", i)
	end
	local dt = B.clock() - t0
	B.report("call_roundtrip", n / dt, "calls/s", string.format("(%d calls, %.2fs)", n, dt))
end)
