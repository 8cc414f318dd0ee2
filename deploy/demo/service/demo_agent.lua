-- demo_agent — one logged-in player on the gate node.  The gate forwards the client's packets
-- here (PTYPE_CLIENT, session = socket id); the agent asks MATCH for a room, relays moves and
-- chat to the room (usually on another node) and writes the room's pushes to the client.
--
-- When a call into the room fails (its node died), the client gets "err S roomlost", MATCH is
-- told, and the client's next `join` is placed on another node.
local skynet = require "skynet"
local socket = require "skynet.socket"
local proto = require "demo.proto"

local fd, player, user, watchdog
local room                -- { name, handle, node } or nil
local msgs, remote = 0, 0

local function write(text)
	msgs = msgs + 1
	socket.write(fd, proto.frame(text))
end

local function reply(session, ...)
	write(table.concat({ "ok", tostring(session), ... }, " "))
end

local function fail(session, code)
	write("err " .. tostring(session) .. " " .. code)
end

local function leave_room()
	if room then
		skynet.send(room.handle, "lua", "leave", player)
		room = nil
	end
end

local function room_lost(r, err)
	if room == r then
		room = nil
	end
	skynet.error(string.format("agent %s: room %s on %s lost: %s", player, r.name, r.node,
		tostring(err):match("^[^\n]*")))
	skynet.send("MATCH", "lua", "lost", r.name, r.node)
end

-- Call the current room; returns the room's answer, or nil and an error code.
local function room_call(cmd, ...)
	local r = room
	if r == nil then
		return nil, "notinroom"
	end
	local ok, res, why = pcall(skynet.call, r.handle, "lua", cmd, player, ...)
	if not ok then
		room_lost(r, res)
		return nil, "roomlost"
	end
	if res == false then
		if room == r then room = nil end
		return nil, why or "notinroom"
	end
	return res
end

local REQ = {}

function REQ.join(session, args)
	local old = room and room.node
	leave_room()
	local name, handle, node = skynet.call("MATCH", "lua", "place", player, user, skynet.self(), old)
	if not name then
		return fail(session, handle or "nospace")
	end
	room = { name = name, handle = handle, node = node }
	reply(session, name, node)
end

function REQ.move(session, args)
	local tick, err = room_call("move", tonumber(args[1]) or 0, tonumber(args[2]) or 0)
	if tick then
		reply(session, tostring(tick))
	else
		fail(session, err)
	end
end

function REQ.chat(session, args, rest)
	local ok, err = room_call("chat", rest)
	if ok then
		reply(session)
	else
		fail(session, err)
	end
end

function REQ.ping(session)
	reply(session)
end

function REQ.status(session)
	reply(session, skynet.call("MATCH", "lua", "status"))
end

function REQ.login(session)
	fail(session, "already")
end

local function client_message(text)
	msgs = msgs + 1
	local op, session, args, rest = proto.parse(text)
	local f = op and REQ[op]
	if f == nil or session == nil then
		return fail(session or 0, "badrequest")
	end
	local ok, err = pcall(f, session, args, rest)
	if not ok then
		skynet.error("agent " .. tostring(player) .. ": " .. op .. " failed: " .. tostring(err))
		fail(session, "internal")
	end
end

local CMD = {}

function CMD.start(conf)
	fd, player, user, watchdog = conf.fd, conf.player, conf.user, conf.watchdog
	return true
end

local function push(source, room_name, text)
	msgs = msgs + 1
	if room and room.name == room_name then
		write(text)
	else
		-- a room we left (or were re-matched away from) still thinks we are there
		skynet.send(source, "lua", "leave", player)
	end
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
}

skynet.start(function()
	skynet.dispatch("client", function(session, source, text)
		skynet.ignoreret()
		client_message(text)
	end)
	skynet.dispatch("lua", function(session, source, cmd, ...)
		if cmd == "push" then
			local _, is_remote = skynet.harbor(source)
			if is_remote then
				remote = remote + 1
			end
			push(source, ...)
			return
		elseif cmd == "disconnect" then
			leave_room()
			skynet.exit()
			return
		end
		local f = CMD[cmd]
		if f == nil then
			error("agent: unknown command " .. tostring(cmd))
		end
		skynet.retpack(f(...))
	end)
	skynet.fork(function()
		while true do
			skynet.sleep(100)
			if msgs > 0 or remote > 0 then
				skynet.send(watchdog, "lua", "count", msgs, remote)
				msgs, remote = 0, 0
			end
		end
	end)
end)
