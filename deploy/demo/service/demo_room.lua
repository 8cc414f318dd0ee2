-- demo_room — one arena: players move on a 100x100 field and chat.  Launched by demo_game with
-- its global name, capacity and node name.  It ticks at 10 Hz and sends every player's agent
-- the room state; chat lines go to everyone at once.  A player whose agent has sent nothing for
-- IDLE_CS is dropped (its agent or its whole node is gone).
--
-- Commands ("lua"): join(player, user, agent) -> true, count | false (full);
-- leave(player); move(player, x, y) -> tick | false, "notinroom"; chat(player, text) -> true |
-- false, "notinroom"; stats() -> players, msgs, remote (counts since the previous stats).
local skynet = require "skynet"
require "skynet.manager"

local name, cap, node = ...
cap = tonumber(cap) or 16

local TICK_CS = 10
local IDLE_CS = 500

local players = {}      -- player -> { agent, user, x, y, last }
local count = 0
local tick = 0
local msgs, remote = 0, 0

local function push(p, text)
	msgs = msgs + 1
	skynet.send(p.agent, "lua", "push", name, text)
end

local function broadcast(text)
	for _, p in pairs(players) do
		push(p, text)
	end
end

local function remove(player)
	if players[player] then
		players[player] = nil
		count = count - 1
	end
end

local function on_tick()
	tick = tick + 1
	local now = skynet.now()
	local parts = { "state", name, tostring(tick) }
	for id, p in pairs(players) do
		if now - p.last > IDLE_CS then
			remove(id)
		else
			parts[#parts + 1] = string.format("%s:%d:%d", id, p.x, p.y)
		end
	end
	if count > 0 then
		broadcast(table.concat(parts, " "))
	end
end

local function ticker()
	while true do
		skynet.sleep(TICK_CS)
		local ok, err = pcall(on_tick)
		if not ok then
			skynet.error("room " .. name .. ": tick failed: " .. tostring(err))
		end
	end
end

local CMD = {}

function CMD.join(player, user, agent)
	if players[player] == nil then
		if count >= cap then
			return false
		end
		count = count + 1
	end
	players[player] = { agent = agent, user = user, x = math.random(0, 100), y = math.random(0, 100),
		last = skynet.now() }
	return true, count
end

function CMD.leave(player)
	remove(player)
	return true
end

local function clamp(v)
	v = math.tointeger(tonumber(v)) or 0
	if v < 0 then return 0 end
	if v > 100 then return 100 end
	return v
end

function CMD.move(player, x, y)
	local p = players[player]
	if p == nil then
		return false, "notinroom"
	end
	p.x, p.y, p.last = clamp(x), clamp(y), skynet.now()
	return tick
end

function CMD.chat(player, text)
	local p = players[player]
	if p == nil then
		return false, "notinroom"
	end
	p.last = skynet.now()
	broadcast("say " .. name .. " " .. player .. " " .. tostring(text):sub(1, 200))
	return true
end

function CMD.stats()
	local m, r = msgs, remote
	msgs, remote = 0, 0
	return count, m, r
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = CMD[cmd]
		if f == nil then
			error("room: unknown command " .. tostring(cmd))
		end
		if cmd ~= "stats" then
			msgs = msgs + 1
			local _, is_remote = skynet.harbor(source)
			if is_remote then
				remote = remote + 1
			end
		end
		skynet.retpack(f(...))
	end)
	skynet.register(name)
	skynet.fork(ticker)
	skynet.error(string.format("room %s ready on node %s (capacity %d)", name, node, cap))
end)
