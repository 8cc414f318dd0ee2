-- Helper service for cl_t_large: makes big calls from its own address, so they
-- share the link with the driver's small messages but not its queue.
local skynet = require "skynet"
local cluster = require "skynet.cluster"

local command = {}

function command.bigcall(node, n)
	local t0 = skynet.now()
	local len = cluster.call(node, "@echo", "size", string.rep("z", n))
	return len, skynet.now() - t0
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		skynet.ret(skynet.pack(command[cmd](...)))
	end)
end)
