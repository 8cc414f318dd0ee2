-- lua_bench_echo — the callee of the Lua benchmarks, written the way a game
-- service is: the "lua" protocol, unpacked arguments, retpack.  A request
-- echoes its arguments; a one-way message is only counted; "count" asks how
-- many one-way messages arrived.
local skynet = require "skynet"

local received = 0

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		if session == 0 then
			received = received + 1
		elseif cmd == "count" then
			skynet.retpack(received)
		else
			skynet.retpack(cmd, ...)
		end
	end)
end)
