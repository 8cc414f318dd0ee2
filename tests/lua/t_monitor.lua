-- t_monitor — a MONITOR service: counts exit notifications (PTYPE_CLIENT with
-- the exiting service as source).
local skynet = require "skynet"
local exited = {}
skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = function() end,
	dispatch = function(_, source) exited[#exited + 1] = source end,
}
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, h)
		local found = false
		for _, x in ipairs(exited) do if x == h then found = true end end
		skynet.retpack(found)
	end)
end)
