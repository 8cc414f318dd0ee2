-- bad_ports: the start service of test_bad_ports.py.  Starts the obs traffic
-- service (so the node is busy and logs "OBS READY 0"), a Lua gate whose
-- agent (this service) echoes every packet back, and a C gate whose watchdog
-- (this service) logs every packet it is told about.  Logs
--   BADPORTS LUAGATE <port>      BADPORTS CGATE <port>
--   BADPORTS CDATA <bytes>       for each packet from the C gate
local skynet = require "skynet"
local gatewatch = require "gatewatch"
require "skynet.manager" -- skynet.launch

local cgate

gatewatch.agent(gatewatch.echo)

gatewatch.cgate_watchdog(function(id, what, rest)
	if what == "open" then
		skynet.send(cgate, "text", "start " .. id)
	elseif what == "data" then
		skynet.error("BADPORTS CDATA " .. rest:gsub("[^%w]", "."))
	end
end)

skynet.start(function()
	skynet.newservice("obs_traffic")
	local _, _, port = gatewatch.lua_gate({ address = "127.0.0.1", port = 0, maxclient = 64 })
	skynet.error("BADPORTS LUAGATE " .. port)
	-- the C gate logs "gate: listen on 127.0.0.1:<port>"
	cgate = skynet.launch("gate", "S", skynet.address(skynet.self()), "127.0.0.1:0", 0, 64)
end)
