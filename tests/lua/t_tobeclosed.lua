-- t_tobeclosed — threads of this service hold `<close>` guards, then some
-- fail and the service exits; every guard reports to the tester (the launch
-- argument) as  "closed", name, error-or-false  when it is closed.
local skynet = require "skynet"

local tester = tonumber((...))

local function guard(name)
	return setmetatable({}, { __close = function(_, err)
		skynet.send(tester, "lua", "closed", name, err and tostring(err) or false)
	end })
end

local n = 0
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "fail" then
			local g <close> = guard("dispatch_error")
			error("dispatch failed")
		elseif cmd == "park" then
			local g <close> = guard("dispatch_wait")
			skynet.wait()
		elseif cmd == "exit" then
			skynet.exit()
		end
	end)
	skynet.fork(function()
		local g <close> = guard("fork_error")
		error("fork failed")
	end)
	skynet.fork(function()
		local g <close> = guard("fork_wait")
		skynet.wait()
	end)
	skynet.fork(function()
		local g <close> = guard("fork_call")
		skynet.call(skynet.self(), "lua", "park")
	end)
	n = n + 1
end)
