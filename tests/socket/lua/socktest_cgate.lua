-- socktest_cgate: watchdog of the C gate; echoes every packet back through the
-- gate (PTYPE_CLIENT with the connection id in the last 4 bytes).
-- Config: socktest_header = "S" (2-byte lengths, default) or "L" (4-byte);
-- socktest_route = "watchdog" (packets come as text "<id> data ..."), "forward"
-- (each connection forwarded to this service as agent, the client handle being
-- the connection id) or "broker" (all packets to this service, session = id).
local skynet = require "skynet"
require "skynet.manager"
local gatewatch = require "gatewatch"

local header = skynet.getenv "socktest_header" or "S"
local route = skynet.getenv "socktest_route" or "watchdog"
local gate

local function echo(id, body)
	local framed = string.pack(header == "S" and ">s2" or ">s4", body)
	skynet.send(gate, "client", framed .. string.pack("<I4", id))
end

gatewatch.cgate_watchdog(function(id, what, rest)
	if what == "open" then
		if route == "forward" then
			skynet.send(gate, "text", string.format("forward %d :%08x :%08x", id,
				skynet.self(), id))
		end
		skynet.send(gate, "text", "start " .. id)
	elseif what == "data" then
		if route ~= "watchdog" then
			skynet.error("SOCKTEST FAIL data reached the watchdog in mode", route)
		end
		echo(id, rest)
	end
end)

gatewatch.protocol("client", skynet.PTYPE_CLIENT, function(session, source, body)
	if route == "broker" then
		skynet.ignoreret() -- the session is the connection id
		echo(session, body)
	elseif route == "forward" then
		echo(source, body) -- the "client" handle we gave is the connection id
	else
		skynet.error("SOCKTEST FAIL client packet in mode", route)
	end
end)

skynet.start(function()
	gate = skynet.launch("gate", header, skynet.address(skynet.self()), "127.0.0.1:0", 0, 1000)
	if not gate then
		skynet.error("SOCKTEST FAIL can't launch the C gate")
		return
	end
	if route == "broker" then
		skynet.send(gate, "text", "broker " .. skynet.address(skynet.self()))
	end
end)
