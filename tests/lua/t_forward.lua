-- t_forward — skynet.forward_type: PTYPE_SYSTEM messages are handed, raw and
-- not freed by the framework, to the dispatcher of our "raw" protocol.
local skynet = require "skynet"
require "skynet.manager"

local seen = 0

skynet.register_protocol {
	name = "raw",
	id = 200,
	unpack = function(msg, sz) return msg, sz end,
	dispatch = function(session, source, msg, sz)
		-- forward mode: the message is ours to free
		local cmd, x = skynet.unpack(msg, sz)
		skynet.trash(msg, sz)
		seen = seen + 1
		skynet.retpack(cmd, x, seen)
	end,
}

skynet.forward_type({ [skynet.PTYPE_SYSTEM] = 200 }, function()
	skynet.dispatch("lua", function(_, _, cmd, x)
		skynet.retpack("lua", cmd, x)
	end)
end)
