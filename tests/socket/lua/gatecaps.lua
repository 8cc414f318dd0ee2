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
require "skynet.manager"

local CHUNK = string.rep("z", 256 * 1024)
local cgate, luagate
local cclosed, luaclosed = {}, {}

local function cwrite(id, bytes)
	skynet.send(cgate, "client", bytes .. string.pack("<I4", id))
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(fd, _, data) -- from the Lua gate: session = fd
		skynet.ignoreret()
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
	end,
}

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(session, _, msg)
		if session ~= 0 then
			skynet.ignoreret() -- the session carries the connection id
		end
		local id, what, at = msg:match("^(%d+) (%a+) ?()")
		id = tonumber(id)
		if what == "open" then
			skynet.send(cgate, "text", "start " .. id)
		elseif what == "close" then
			cclosed[id] = true
		elseif what == "data" then
			local body = msg:sub(at)
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
	end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, sub, fd, ...)
		if cmd == "socket" then
			if sub == "open" then
				skynet.call(luagate, "lua", "forward", fd, 0, skynet.self())
			elseif sub == "close" or sub == "error" then
				luaclosed[fd] = true
			end
		end
	end)
	-- max_buffer from the config key gate_max_buffer; send_limit as an open parameter
	cgate = skynet.launch("gate", "L", skynet.address(skynet.self()), "127.0.0.1:0", 0, 300,
		"send_limit=4194304")
	luagate = skynet.newservice("gate")
	local _, port = skynet.call(luagate, "lua", "open", {
		address = "127.0.0.1", port = 0, maxclient = 300, send_limit = 4 * 1024 * 1024,
		watchdog = skynet.self(),
	})
	skynet.error("GATECAPS READY " .. port)
end)
