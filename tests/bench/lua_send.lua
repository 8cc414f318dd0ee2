-- One-way sends from one service to another, until the receiver counted them all.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local echo = skynet.newservice "lua_bench_echo"
	local send = skynet.send
	local n = B.n(1000000)
	local t0 = B.clock()
	for i = 1, n do
		send(echo, "lua", "x", i)
		if i % 10000 == 0 then skynet.yield() end -- let the receiver keep up
	end
	while skynet.call(echo, "lua", "count") < n do skynet.yield() end
	local dt = B.clock() - t0
	B.report("send_oneway", n / dt, "msgs/s", string.format("(%d msgs, %.2fs)", n, dt))
end)
