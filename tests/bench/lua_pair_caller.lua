-- lua_pair_caller — one caller of a caller/echo pair: on "run n", calls its
-- own echo n times and answers the elapsed seconds.
local skynet = require "skynet"

skynet.start(function()
	local echo = skynet.newservice "lua_bench_echo"
	skynet.dispatch("lua", function(_, _, cmd, n)
		local call = skynet.call
		for _ = 1, 200 do call(echo, "lua", "ping", 1) end
		local t0 = skynet.hpc()
		for i = 1, n do call(echo, "lua", "ping", i) end
		skynet.retpack((skynet.hpc() - t0) / 1e9)
	end)
end)
