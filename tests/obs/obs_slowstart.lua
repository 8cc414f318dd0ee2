-- A start service that does not finish until the test says so: the node's
-- /ready must answer 503 until then.  `call .slowstart "go"` lets it finish.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local waiting = coroutine.running()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "go" then
			skynet.wakeup(waiting)
			skynet.ret(skynet.pack(true))
		end
	end)
	skynet.register ".slowstart"
	skynet.error("OBS SLOW START")
	skynet.wait(waiting)
	skynet.error("OBS READY 0")
end)
