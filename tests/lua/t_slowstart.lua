-- t_slowstart — takes a while in its start function (for unique-service races).
local skynet = require "skynet"
local count = 0
skynet.start(function()
	skynet.sleep(10)
	skynet.dispatch("lua", function(_, _, cmd)
		count = count + 1
		skynet.retpack(count)
	end)
end)
