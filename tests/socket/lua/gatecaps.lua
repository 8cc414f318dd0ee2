-- gatecaps: both gates for test_gate_caps.py.  Watchdog of the C gate (text
-- mode: "<id> open|close|data ...") and watchdog + agent of the Lua gate.
-- A packet "ping..." is echoed (C gate: L framing; Lua gate: netpack); a
-- packet "flood" makes this service push 256 KiB to that client every tick
-- until the client is gone (at most 512 times); a packet "reply" is answered
-- by 256 KiB once.  Logs "GATECAPS READY <lua gate port>" and
-- "GATECAPS flood <which> stopped after <n>".
local skynet = require "skynet"
local socket = require "skynet.socket"
local netpack = require "skynet.netpack"
local gatewatch = require "gatewatch"
require "skynet.manager"

local CHUNK = string.rep("z", 256 * 1024)
local cgate
local cclosed, luaclosed = {}, {}

local function cwrite(id, bytes)
	skynet.send(cgate, "client", bytes .. string.pack("<I4", id))
end

-- The C gate's client messages go out through the "client" protocol that
-- gatewatch.agent registers (its pack passes the bytes through).
gatewatch.agent(function(fd, data) -- from the Lua gate: session = fd
	if data == "flood" then
		local n = 0
		while n < 512 and not luaclosed[fd] do
			socket.write(fd, CHUNK)
			n = n + 1
			skynet.sleep(1)
		end
		skynet.error("GATECAPS flood lua stopped after " .. n)
	elseif data == "reply" then
		socket.write(fd, CHUNK)
	else
		socket.write(fd, netpack.pack(data))
	end
end)

gatewatch.cgate_watchdog(function(id, what, body)
	if what == "open" then
		skynet.send(cgate, "text", "start " .. id)
	elseif what == "close" then
		cclosed[id] = true
	elseif what == "data" then
		if body == "flood" then
			local n = 0
			while n < 512 and not cclosed[id] do
				cwrite(id, CHUNK)
				n = n + 1
				skynet.sleep(1)
			end
			skynet.error("GATECAPS flood c stopped after " .. n)
		else
			cwrite(id, string.pack(">s4", body))
		end
	end
end)

skynet.start(function()
	-- max_buffer from the config key gate_max_buffer; send_limit as an open parameter
	cgate = skynet.launch("gate", "L", skynet.address(skynet.self()), "127.0.0.1:0", 0, 300,
		"send_limit=4194304")
	local _, _, port = gatewatch.lua_gate({
		address = "127.0.0.1", port = 0, maxclient = 300, send_limit = 4 * 1024 * 1024,
	}, function(sub, fd)
		if sub == "close" or sub == "error" then
			luaclosed[fd] = true
		end
	end)
	skynet.error("GATECAPS READY " .. port)
end)
