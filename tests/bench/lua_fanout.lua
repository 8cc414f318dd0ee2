-- Fan-out: one service calls 1,000 services at once and collects the replies.
local skynet = require "skynet"
local B = require "lua_benchlib"

B.main(function()
	local width = 1000
	local targets = {}
	for i = 1, width do
		targets[i] = skynet.newservice "lua_bench_echo"
	end
	local rounds = B.n(100)
	local t0 = B.clock()
	for _ = 1, rounds do
		B.parallel(width, function(i)
			skynet.call(targets[i], "lua", "ping", i)
		end)
	end
	local dt = B.clock() - t0
	B.report("fanout_1000", rounds * width / dt, "replies/s",
		string.format("(%d rounds, %.2f ms per round)", rounds, dt / rounds * 1000))
	-- the same with request():select()
	t0 = B.clock()
	for _ = 1, rounds do
		local req = skynet.request()
		for i = 1, width do req:add { targets[i], "lua", "ping", i } end
		local got = 0
		for _, resp in req:select() do got = got + 1 end
		assert(got == width)
	end
	dt = B.clock() - t0
	B.report("fanout_1000_select", rounds * width / dt, "replies/s",
		string.format("(%d rounds, %.2f ms per round)", rounds, dt / rounds * 1000))
end)
