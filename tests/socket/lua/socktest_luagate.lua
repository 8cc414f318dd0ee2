-- socktest_luagate: watchdog and agent of the Lua gate service. Each connection
-- is forwarded to this service, which echoes packets with netpack framing; a
-- packet "kick" makes it kick the client.
local skynet = require "skynet"
local netpack = require "skynet.netpack"
local gatewatch = require "gatewatch"

local gate

gatewatch.agent(function(fd, data)
	if data == "kick" then
		skynet.call(gate, "lua", "kick", fd)
	else
		gatewatch.echo(fd, data)
	end
end)

skynet.start(function()
	local addr, port
	gate, addr, port = gatewatch.lua_gate({
		address = "127.0.0.1", port = 0, maxclient = 2000, nodelay = true,
	}, function(sub, fd)
		if sub == "data" then
			skynet.error("SOCKTEST FAIL data reached the watchdog", fd)
		end
	end)
	-- netpack refuses what its 2-byte header cannot carry
	local ok, err = pcall(netpack.pack, string.rep("x", 65536))
	if ok or not err:find("too long") then
		skynet.error("SOCKTEST FAIL netpack.pack oversize", ok, err)
	end
	skynet.error("SOCKTEST READY " .. port .. " " .. addr)
end)
