-- wsgate_echo: watchdog of two C gates in WebSocket mode (protocol=ws), for
-- tests/socket/test_gate_ws.py, tests/http/test_browser_ws.py and the bench.
--   gate "bin":  binary frames; packets reach this service as the watchdog
--                ("<id> data <bytes>"), max_packet from wsgate_max (1 MiB)
--   gate "text": text frames (ws_frame=text); each connection is forwarded to
--                this service as its agent (PTYPE_CLIENT, client handle = id)
-- wsgate_hs_timeout sets both gates' ws_handshake_timeout.
-- Every message is echoed, except these commands (the whole message):
--   "kick <code>"  the watchdog kicks the sender with that close code
--   "big <n>"      answers with n bytes of "b" (server frames of any size)
-- Prints "WSGATE <name> <gate handle>" for each gate (the test maps it to the
-- gate's "listen on" line), "WSGATE open|close <id>" as the watchdog hears them.
local skynet = require "skynet"
require "skynet.manager"

local max = skynet.getenv "wsgate_max" or "1048576"
local host = skynet.getenv "wsgate_host" or "127.0.0.1"
local maxconn = tonumber(skynet.getenv "wsgate_maxconn" or "2000")
local quiet = skynet.getenv "wsgate_quiet" == "1" -- no open/close lines (bench)
local hs = skynet.getenv "wsgate_hs_timeout" -- ws_handshake_timeout, seconds
local common = "protocol=ws max_packet=" .. max .. (hs and " ws_handshake_timeout=" .. hs or "")
local gates = {} -- gate handle -> name

local function send(gate, id, body)
	skynet.send(gate, "client", body .. string.pack("<I4", id))
end

local function handle(gate, id, body)
	local code = body:match("^kick (%d+)$")
	if code then
		skynet.send(gate, "text", string.format("kick %d %s", id, code))
		return
	end
	local n = body:match("^big (%d+)$")
	if n then
		send(gate, id, string.rep("b", tonumber(n)))
		return
	end
	send(gate, id, body)
end

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(session, source, msg)
		if session ~= 0 then
			skynet.ignoreret() -- the session carries the connection id
		end
		local id, what, rest = msg:match("^(%d+) (%a+) ?(.*)$")
		id = tonumber(id)
		if what == "open" then
			if not quiet then
				skynet.error("WSGATE open", id, gates[source], rest)
			end
			if gates[source] == "text" then
				skynet.send(source, "text", string.format("forward %d :%08x :%08x", id,
					skynet.self(), id))
			end
			skynet.send(source, "text", "start " .. id)
		elseif what == "close" then
			if not quiet then
				skynet.error("WSGATE close", id, gates[source])
			end
		elseif what == "data" then
			handle(source, id, rest)
		end
	end,
}

local textgate
skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(_, source, body)
		handle(textgate, source, body) -- the "client" handle we gave is the id
	end,
}

skynet.start(function()
	local me = skynet.address(skynet.self())
	local bin = skynet.launch("gate", "S", me, host .. ":0", 0, maxconn, common)
	textgate = skynet.launch("gate", "S", me, host .. ":0", 0, maxconn, common .. " ws_frame=text")
	if not bin or not textgate then
		skynet.error("WSGATE FAIL can't launch the C gate")
		return
	end
	gates[bin] = "bin"
	gates[textgate] = "text"
	skynet.error(string.format("WSGATE bin :%08x", bin))
	skynet.error(string.format("WSGATE text :%08x", textgate))
end)
