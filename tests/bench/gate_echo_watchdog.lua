-- gate_echo_watchdog: the Lua gate plus an echo agent (this service), for the
-- gate echo benchmark. Every connection is forwarded here; packets are echoed
-- with netpack framing straight to the client socket.
local skynet = require "skynet"
local gatewatch = require "gatewatch"

gatewatch.agent(gatewatch.echo)

skynet.start(function()
	local _, _, port = gatewatch.lua_gate({
		address = "127.0.0.1", port = 0, maxclient = 4096, nodelay = true,
	})
	skynet.error("SOCKTEST READY " .. port)
end)
