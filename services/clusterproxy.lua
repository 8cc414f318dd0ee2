-- clusterproxy: a local stand-in for a service of another node.
-- skynet.send to it becomes a cluster push,
-- skynet.call a cluster call whose raw reply goes back to the caller.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
require "skynet.manager"

local node, address = ...
address = math.tointeger(tonumber(address)) or address

skynet.register_protocol {
	name = "system",
	id = skynet.PTYPE_SYSTEM,
	unpack = function(...) return ... end,
}

local forward_map = {
	[skynet.PTYPE_SNAX] = skynet.PTYPE_SYSTEM,
	[skynet.PTYPE_LUA] = skynet.PTYPE_SYSTEM,
	[skynet.PTYPE_RESPONSE] = skynet.PTYPE_RESPONSE,
}

skynet.forward_type(forward_map, function()
	skynet.dispatch("system", function(session, source, msg, sz)
		if session == 0 then
			cluster.rawsend(node, address, msg, sz)
		else
			local ok, m, s = cluster.rawcall(node, address, msg, sz)
			if ok then
				skynet.ret(m, s)
			else
				skynet.error(m)
				error(m, 0)
			end
		end
	end)
end)
