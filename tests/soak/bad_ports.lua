-- bad_ports: the start service of test_bad_ports.py.  Starts the obs traffic
-- service (so the node is busy and logs "OBS READY 0"), a Lua gate whose
-- agent (this service) echoes every packet back, and a C gate whose watchdog
-- (this service) logs every packet it is told about.  Logs
--   BADPORTS LUAGATE <port>      BADPORTS CGATE <port>
--   BADPORTS CDATA <bytes>       for each packet from the C gate
local skynet = require "skynet"
local socket = require "skynet.socket"
local netpack = require "skynet.netpack"
require "skynet.manager" -- skynet.launch

local luagate, cgate

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, data)
		skynet.ignoreret()
		socket.write(fd, netpack.pack(data))
	end,
}

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(text) return text end,
	unpack = skynet.tostring,
	dispatch = function(_, _, text)
		skynet.ignoreret()
		-- "<id> open <addr>" / "<id> close" / "<id> data <bytes>"
		local id = text:match("^(%d+) open ")
		if id then
			skynet.send(cgate, "text", "start " .. id)
			return
		end
		local bytes = text:match("^%d+ data (.*)$")
		if bytes then
			skynet.error("BADPORTS CDATA " .. bytes:gsub("[^%w]", "."))
		end
	end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, sub, fd)
		if cmd == "socket" and sub == "open" then
			skynet.call(luagate, "lua", "forward", fd, 0, skynet.self())
		end
	end)
	skynet.newservice("obs_traffic")
	luagate = skynet.newservice("gate")
	local _, port = skynet.call(luagate, "lua", "open", {
		address = "127.0.0.1", port = 0, maxclient = 64, watchdog = skynet.self(),
	})
	skynet.error("BADPORTS LUAGATE " .. port)
	-- the C gate logs "gate: listen on 127.0.0.1:<port>"
	cgate = skynet.launch("gate", "S", skynet.address(skynet.self()), "127.0.0.1:0", 0, 64)
end)
