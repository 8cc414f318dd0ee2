-- t_spawn — an almost empty service: reports in, exits on request.
local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function()
		skynet.ret()
		skynet.exit()
	end)
end)
