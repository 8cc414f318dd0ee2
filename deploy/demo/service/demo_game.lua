-- demo_game — the game role of a node: hosts the rooms and keeps the node known to the
-- matchmaker.  Args: node name, number of rooms, room capacity.
--
-- Each room gets the global name "<node>.r<i>".  Once the rooms exist the node announces itself
-- to MATCH (node_up, with the room names) and then reports once a second.  When MATCH cannot be
-- reached, or answers that it does not know this node (it restarted, or took the node for dead),
-- the node announces itself again.  `joined` (asked by demo_main for the health check) is true
-- while the node is known to the matchmaker.
local skynet = require "skynet"
local membership = require "demo.membership"

local node, nrooms, cap = ...
nrooms = tonumber(nrooms) or 4
cap = tonumber(cap) or 16

local rooms = {}        -- { name, handle }
local member            -- demo.membership: MATCH knows this node while member.joined

local function collect(interval)
	local stats = { players = 0, msgs = 0, remote = 0, interval = interval, rooms = {} }
	for _, r in ipairs(rooms) do
		local ok, players, msgs, remote = pcall(skynet.call, r.handle, "lua", "stats")
		if ok then
			stats.players = stats.players + players
			stats.msgs = stats.msgs + msgs
			stats.remote = stats.remote + remote
			stats.rooms[r.name] = players
		end
	end
	return stats
end

skynet.start(function()
	for i = 1, nrooms do
		local name = node .. ".r" .. i
		assert(#name <= 15, "room name too long for a global name: " .. name)
		local handle = skynet.newservice("demo_room", name, cap, node)
		rooms[#rooms + 1] = { name = name, handle = handle }
	end
	skynet.dispatch("lua", function(session, source, cmd)
		if cmd == "joined" then
			skynet.retpack(member ~= nil and member.joined)
		else
			error("demo_game: unknown command " .. tostring(cmd))
		end
	end)
	member = membership.start {
		node = node, role = "game", stats = collect,
		rooms = function()
			local list = {}
			for _, r in ipairs(rooms) do
				list[#list + 1] = { name = r.name, handle = r.handle, cap = cap }
			end
			return list
		end,
	}
end)
