-- test_console — the target the debug console test (console_client.py)
-- drives; it only serves, the Python client judges.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "echo" then
			skynet.retpack(...)
		else
			error("unknown command " .. tostring(cmd))
		end
	end)
	skynet.info_func(function(...)
		return "target info " .. table.concat({ ... }, ",")
	end)
	skynet.register ".target"
	skynet.error("console target ready " .. skynet.address(skynet.self()))
end)
