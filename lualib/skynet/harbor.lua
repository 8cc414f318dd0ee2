-- skynet.harbor — global names and node links.
--
-- On a single node (harbor = 0) every call goes to `.cslave` (cdummy) with the
-- "lua" protocol.  On a harbor node it goes to the C harbor service `.harbor`
-- with the "harbor" protocol (PTYPE_HARBOR, text both ways; the commands are
-- listed at the top of harbor/service_harbor.c).
local skynet = require "skynet"

local harbor = {}

local multi = (tonumber(skynet.getenv "harbor") or 0) ~= 0

if multi and not skynet._proto.harbor then
	skynet.register_protocol {
		name = "harbor",
		id = skynet.PTYPE_HARBOR,
		pack = function(...) return table.concat({ ... }, " ") end,
		unpack = skynet.tostring,
	}
end

local function hcall(...)
	return skynet.call(".harbor", "harbor", ...)
end

if multi then
	function harbor.globalname(name, handle)
		handle = handle or skynet.self()
		skynet.send(".harbor", "harbor", "REGISTER", name, skynet.address(handle))
	end

	function harbor.queryname(name)
		if string.byte(name) == 46 then -- '.': a local name
			return skynet.localname(name)
		end
		local r = hcall("QUERYNAME", name)
		return tonumber(string.sub(r, 2), 16)
	end

	-- returns when node `id` is down (at once if it is not up)
	function harbor.link(id)
		hcall("LINK", tostring(id))
	end

	-- returns when node `id` is up
	function harbor.connect(id)
		hcall("CONNECT", tostring(id))
	end

	-- returns when the link to the master is lost
	function harbor.linkmaster()
		hcall("LINKMASTER")
	end

	-- returns once the master sent this node its table (bootstrap waits on it)
	function harbor.ready()
		hcall("READY")
	end

	-- Node `id`'s state as this node sees it: "up", "leaving" (it drains: do
	-- not send it newcomers; calls to it still work), "left" (it drained and
	-- stopped), "connecting", "down" or "unknown".  For this node's own id:
	-- "up" or "leaving".
	function harbor.state(id)
		return hcall("STATE", tostring(id))
	end

	-- This node drains: tell the master and every peer (`.shutdown` does it
	-- when a drain starts; see docs/operations.md).
	function harbor.leave(reason)
		return hcall("LEAVING", tostring(reason or "requested"))
	end
else
	function harbor.globalname(name, handle)
		handle = handle or skynet.self()
		skynet.send(".cslave", "lua", "REGISTER", name, handle)
	end

	function harbor.queryname(name)
		return skynet.call(".cslave", "lua", "QUERYNAME", name)
	end

	function harbor.link(id)
		skynet.call(".cslave", "lua", "LINK", id)
	end

	function harbor.connect(id)
		skynet.call(".cslave", "lua", "CONNECT", id)
	end

	function harbor.linkmaster()
		skynet.call(".cslave", "lua", "LINKMASTER")
	end

	function harbor.ready()
	end

	-- a single node has no peers: it is itself, up
	function harbor.state(id)
		return id == 0 and "up" or "unknown"
	end

	function harbor.leave()
		return "leaving"
	end
end

return harbor
