-- socktest_luagate: watchdog and agent of the Lua gate service. Each connection
-- is forwarded to this service, which echoes packets with netpack framing; a
-- packet "kick" makes it kick the client.
local skynet = require "skynet"
local socket = require "skynet.socket"
local netpack = require "skynet.netpack"

local gate
local SOCKET = {}

function SOCKET.open(fd, addr)
	skynet.call(gate, "lua", "forward", fd, 0, skynet.self())
end

function SOCKET.close(fd) end
function SOCKET.error(fd, msg) end
function SOCKET.warning(fd, size) end
function SOCKET.data(fd, msg)
	skynet.error("SOCKTEST FAIL data reached the watchdog", fd)
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, data)
		skynet.ignoreret() -- the session is the client's fd
		if data == "kick" then
			skynet.call(gate, "lua", "kick", fd)
		else
			socket.write(fd, netpack.pack(data))
		end
	end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, sub, ...)
		if cmd == "socket" then
			SOCKET[sub](...)
		end
	end)
	gate = skynet.newservice("gate")
	local addr, port = skynet.call(gate, "lua", "open", {
		address = "127.0.0.1", port = 0, maxclient = 2000, nodelay = true,
		watchdog = skynet.self(),
	})
	-- netpack refuses what its 2-byte header cannot carry
	local ok, err = pcall(netpack.pack, string.rep("x", 65536))
	if ok or not err:find("too long") then
		skynet.error("SOCKTEST FAIL netpack.pack oversize", ok, err)
	end
	skynet.error("SOCKTEST READY " .. port .. " " .. addr)
end)
