-- gate_echo_watchdog: the Lua gate plus an echo agent (this service), for the
-- gate echo benchmark. Every connection is forwarded here; packets are echoed
-- with netpack framing straight to the client socket.
local skynet = require "skynet"
local socket = require "skynet.socket"
local netpack = require "skynet.netpack"

local gate

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, data)
		skynet.ignoreret()
		socket.write(fd, netpack.pack(data))
	end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, sub, fd)
		if cmd == "socket" and sub == "open" then
			skynet.call(gate, "lua", "forward", fd, 0, skynet.self())
		end
	end)
	gate = skynet.newservice("gate")
	local _, port = skynet.call(gate, "lua", "open", {
		address = "127.0.0.1", port = 0, maxclient = 4096, nodelay = true,
		watchdog = skynet.self(),
	})
	skynet.error("SOCKTEST READY " .. port)
end)
