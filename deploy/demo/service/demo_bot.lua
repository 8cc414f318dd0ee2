-- demo_bot — drives a slice of the simulated players.  Args: first index, count, gate host,
-- port, secret.  Each player connects to the gate, logs in, joins a room, then moves five
-- times a second (measuring each request's round trip), chats now and then, and reads the
-- room's pushes.  When its room is lost it joins again (MATCH places it on another node); any
-- other failure — an error reply, a timeout, a dropped connection — is counted as an error and
-- the player starts over.  `stats` (from demo_bots) returns the counters and the round trips
-- measured since the previous call.
local skynet = require "skynet"
local socket = require "skynet.socket"
local proto = require "demo.proto"

local first, count, host, port, secret = ...
first, count, port = tonumber(first), tonumber(count), tonumber(port)

local MOVE_CS = 20         -- a move every 200 ms
local CHAT_EVERY = 25      -- a chat line every 25 moves
local REQUEST_CS = 1500    -- a request without an answer for 15 s is an error

local st = {
	connected = 0, in_room = 0, requests = 0, pushes = 0, says = 0,
	errors = 0, lost = 0, rematched = 0, logins = 0,
	by_node = {}, lost_by_node = {}, last_errors = {},
}
local rtts = {}
local players = {}

local function add_error(p, what)
	st.errors = st.errors + 1
	local line = string.format("%s: %s", p.user, what)
	table.insert(st.last_errors, line)
	if #st.last_errors > 5 then
		table.remove(st.last_errors, 1)
	end
	skynet.error("bot error " .. line)
end

local function set_room(p, node)
	if p.node then
		st.by_node[p.node] = st.by_node[p.node] - 1
		st.in_room = st.in_room - 1
	end
	p.node = node
	if node then
		st.by_node[node] = (st.by_node[node] or 0) + 1
		st.in_room = st.in_room + 1
	end
end

-- Read packets until the connection closes; replies wake their requests.
local function reader(p, fd)
	while true do
		local head = socket.read(fd, 2)
		if not head then break end
		local n = string.unpack(">I2", head)
		local body = n > 0 and socket.read(fd, n) or ""
		if not body then break end
		local op, session, _, rest = proto.parse(body)
		if (op == "ok" or op == "err") and session then
			local w = p.pending[session]
			if w then
				p.pending[session] = nil
				w.op, w.rest = op, rest
				skynet.wakeup(w)
			end
		elseif op == "state" then
			st.pushes = st.pushes + 1
		elseif op == "say" then
			st.pushes = st.pushes + 1
			st.says = st.says + 1
		end
	end
	p.closed = true
	for s, w in pairs(p.pending) do
		p.pending[s] = nil
		skynet.wakeup(w)
	end
end

-- Send one request and wait for its answer: returns "ok"|"err", rest; or nil, why.
local function request(p, op, args)
	if p.closed then
		return nil, "connection closed"
	end
	p.seq = p.seq + 1
	local s = p.seq
	local w = {}
	p.pending[s] = w
	st.requests = st.requests + 1
	local t0 = skynet.hpc()
	socket.write(p.fd, proto.frame(op .. " " .. s .. (args and (" " .. args) or "")))
	skynet.sleep(REQUEST_CS, w)
	if w.op == nil then
		p.pending[s] = nil
		return nil, p.closed and "connection closed" or ("no answer to " .. op .. " within 15 s")
	end
	rtts[#rtts + 1] = (skynet.hpc() - t0) / 1e6
	return w.op, w.rest
end

local function join(p)
	local op, rest = request(p, "join")
	if op == "ok" then
		local room, node = rest:match("^(%S+) (%S+)")
		set_room(p, node)
		return true
	end
	add_error(p, "join: " .. tostring(rest))
	return false
end

-- One connection's life; returns when it failed (the caller waits and starts over).
local function session_run(p)
	local fd, err = socket.open(host, port)
	if not fd then
		add_error(p, "connect: " .. tostring(err))
		return
	end
	p.fd, p.closed, p.pending, p.seq = fd, false, {}, 0
	st.connected = st.connected + 1
	skynet.fork(reader, p, fd)
	local op, rest = request(p, "login", p.user .. " " .. proto.token(secret, p.user))
	if op ~= "ok" then
		add_error(p, "login: " .. tostring(rest))
	elseif join(p) then
		st.logins = st.logins + 1
		local moves = 0
		while not p.stop do
			skynet.sleep(MOVE_CS)
			moves = moves + 1
			local req, args = "move", math.random(0, 100) .. " " .. math.random(0, 100)
			if moves % CHAT_EVERY == 0 then
				req, args = "chat", "hello from " .. p.user .. " #" .. moves
			end
			op, rest = request(p, req, args)
			if op == "err" and rest:match("^roomlost") then
				local node = p.node or "?"
				st.lost = st.lost + 1
				st.lost_by_node[node] = (st.lost_by_node[node] or 0) + 1
				set_room(p, nil)
				if not join(p) then break end
				st.rematched = st.rematched + 1
				skynet.error(string.format("bot %s: room on %s lost, re-matched to %s", p.user, node, p.node))
			elseif op ~= "ok" then
				add_error(p, req .. ": " .. tostring(rest))
				break
			end
		end
	end
	set_room(p, nil)
	st.connected = st.connected - 1
	socket.close(fd)
end

local function player_loop(p)
	-- spread the logins over the first second
	skynet.sleep(math.random(0, 100))
	while not p.stop do
		session_run(p)
		if not p.stop then
			skynet.sleep(100)
		end
	end
end

local CMD = {}

function CMD.stats()
	local r = rtts
	rtts = {}
	return st, r
end

function CMD.stop()
	for _, p in ipairs(players) do
		p.stop = true
	end
	return true
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], "demo_bot: unknown command")
		skynet.retpack(f(...))
	end)
	math.randomseed(first * 7919 + skynet.now())
	for i = first, first + count - 1 do
		local p = { user = string.format("bot%d", i) }
		players[#players + 1] = p
		skynet.fork(player_loop, p)
	end
end)
