-- gatewatch — the watchdog and agent halves that the gate tests and the gate
-- benchmark share (socket/lua/gatecaps.lua, socktest_cgate.lua,
-- socktest_luagate.lua, soak/bad_ports.lua, bench/gate_echo_watchdog.lua).
-- On every test node's lua_path with testlib.lua (tests/).
--
-- The C gate in watchdog mode tells its watchdog about connections in text
-- messages "<id> open <addr>", "<id> close", "<id> data <bytes>"...; the Lua
-- gate calls its watchdog's "socket" commands and, for a connection it
-- forwards, sends the packets to the agent as "client" messages whose session
-- is the connection's fd.
local skynet = require "skynet"
local socket = require "skynet.socket"
local netpack = require "skynet.netpack"

local gatewatch = {}

-- Registers protocol `name` (number id) whose messages are plain strings
-- both ways, handled by dispatch(session, source, msg).
function gatewatch.protocol(name, id, dispatch)
	skynet.register_protocol {
		name = name,
		id = id,
		pack = function(s) return s end,
		unpack = skynet.tostring,
		dispatch = dispatch,
	}
end

-- Registers the "text" protocol of a C gate's watchdog: on_event(id, what,
-- rest) for each message (rest: what follows the word, "" when nothing).
function gatewatch.cgate_watchdog(on_event)
	gatewatch.protocol("text", skynet.PTYPE_TEXT, function(session, _, msg)
		if session ~= 0 then
			skynet.ignoreret() -- the session carries the connection id
		end
		local id, what, rest = msg:match("^(%d+) (%a+) ?(.*)$")
		on_event(tonumber(id), what, rest)
	end)
end

-- Registers the "client" protocol of a Lua gate's agent: on_packet(fd, data)
-- for each packet (nothing is returned to the gate).
function gatewatch.agent(on_packet)
	gatewatch.protocol("client", skynet.PTYPE_CLIENT, function(fd, _, data)
		skynet.ignoreret() -- the session is the client's fd
		on_packet(fd, data)
	end)
end

-- The agent's echo: the packet back to the client, netpack-framed.
function gatewatch.echo(fd, data)
	socket.write(fd, netpack.pack(data))
end

-- Opens a Lua gate (skynet's gate service) with `conf` and this service as
-- its watchdog; every connection is forwarded to this service as its agent,
-- and on_socket(sub, fd, ...) (optional) hears the other socket events.
-- Call it from skynet.start.  Returns the gate, its address and its port.
function gatewatch.lua_gate(conf, on_socket)
	local gate = skynet.newservice("gate")
	skynet.dispatch("lua", function(_, _, cmd, sub, fd, ...)
		if cmd ~= "socket" then
			return
		end
		if sub == "open" then
			skynet.call(gate, "lua", "forward", fd, 0, skynet.self())
		elseif on_socket then
			on_socket(sub, fd, ...)
		end
	end)
	conf.watchdog = skynet.self()
	local addr, port = skynet.call(gate, "lua", "open", conf)
	return gate, addr, port
end

return gatewatch
