-- demo_watchdog — the gate role of a node.  Args: node name, listen host, port, max clients.
--
-- It opens skynet's Lua `gate` (2-byte big-endian length-prefixed packets) and owns every
-- connection until it logs in: `login` is checked by LOGIN, then an agent is made and the gate
-- forwards the connection's packets straight to it.  Before login only `login`, `ping` and
-- `status` are served.  It also reports this node to MATCH once a second (players = agents,
-- msgs = packets and pushes the agents handled, remote = pushes that came from other nodes).
local skynet = require "skynet"
local socket = require "skynet.socket"
local proto = require "demo.proto"
local membership = require "demo.membership"

local node, host, port, maxclient = ...
port = assert(tonumber(port), "demo_watchdog: no port")
maxclient = tonumber(maxclient) or 4096

local gate
local conns = {}          -- fd -> { addr, agent, busy }
local agents = 0
local counted_msgs, counted_remote = 0, 0
local member            -- demo.membership: MATCH knows the gate role while member.joined
local listening = false

local function send(fd, text)
	socket.write(fd, proto.frame(text))
end

local function close(fd)
	local c = conns[fd]
	conns[fd] = nil
	if c and c.agent then
		agents = agents - 1
		skynet.send(c.agent, "lua", "disconnect")
	end
end

local function login(fd, c, session, user, token)
	local ok, player, why = pcall(skynet.call, "LOGIN", "lua", "check", user, token)
	if not ok then
		skynet.error("watchdog: LOGIN unreachable: " .. tostring(player):match("^[^\n]*"))
		return send(fd, "err " .. session .. " loginunavailable")
	end
	if not player then
		return send(fd, "err " .. session .. " " .. (why or "badtoken"))
	end
	if conns[fd] ~= c then
		return -- closed while we waited
	end
	local agent = skynet.newservice "demo_agent"
	skynet.call(agent, "lua", "start", { fd = fd, player = player, user = user, watchdog = skynet.self() })
	if conns[fd] ~= c then
		skynet.send(agent, "lua", "disconnect")
		return
	end
	c.agent = agent
	agents = agents + 1
	-- forward first, then answer: the client's next packet must already go to the agent
	skynet.call(gate, "lua", "forward", fd, 0, agent)
	send(fd, "ok " .. session .. " " .. player)
end

local function client_data(fd, text)
	local c = conns[fd]
	if c == nil or c.agent then
		return
	end
	local op, session, args = proto.parse(text)
	if op == nil or session == nil then
		return send(fd, "err 0 badrequest")
	end
	if op == "ping" then
		send(fd, "ok " .. session)
	elseif op == "status" then
		local ok, st = pcall(skynet.call, "MATCH", "lua", "status")
		send(fd, ok and ("ok " .. session .. " " .. st) or ("err " .. session .. " matchunavailable"))
	elseif op == "login" then
		if c.busy then
			return send(fd, "err " .. session .. " busy")
		end
		c.busy = true
		login(fd, c, session, args[1], args[2])
		c.busy = false
	else
		send(fd, "err " .. session .. " notloggedin")
	end
end

local SOCKET = {}

function SOCKET.open(fd, addr)
	conns[fd] = { addr = addr }
	skynet.call(gate, "lua", "accept", fd)
end

function SOCKET.close(fd)
	close(fd)
end

function SOCKET.error(fd, msg)
	close(fd)
end

function SOCKET.warning(fd, size)
	skynet.error(string.format("watchdog: client %d has %d KiB unsent", fd, size))
end

function SOCKET.data(fd, msg)
	client_data(fd, msg)
end

local CMD = {}

function CMD.count(m, r)
	counted_msgs = counted_msgs + m
	counted_remote = counted_remote + r
end

function CMD.joined()
	return member ~= nil and member.joined and listening
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, subcmd, ...)
		if cmd == "socket" then
			local f = SOCKET[subcmd]
			if f then
				f(...)
			end
			-- socket notices are sends: no reply
		else
			local f = assert(CMD[cmd], "watchdog: unknown command")
			if session == 0 then
				f(subcmd, ...)
			else
				skynet.retpack(f(subcmd, ...))
			end
		end
	end)
	gate = skynet.newservice "gate"
	skynet.call(gate, "lua", "open", {
		address = host,
		port = port,
		maxclient = maxclient,
		nodelay = true,
		watchdog = skynet.self(),
	})
	listening = true
	skynet.error(string.format("gate of node %s listening on %s:%d", node, host, port))
	member = membership.start {
		node = node, role = "gate", rooms = function() return {} end,
		stats = function(interval)
			local stats = { players = agents, msgs = counted_msgs, remote = counted_remote, interval = interval }
			counted_msgs, counted_remote = 0, 0
			return stats
		end,
	}
end)
