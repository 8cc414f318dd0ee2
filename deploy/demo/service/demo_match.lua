-- demo_match — the matchmaker, global name MATCH, on the master node.
--
-- Game nodes announce themselves (node_up) with the global names of their rooms; the matchmaker
-- resolves each name with harbor.queryname and from then on talks to the room by handle, so a
-- call to a room on a dead node fails at once instead of waiting for a name.  Every node reports
-- once a second (report); a node is down when its harbor link drops, when a call into it fails,
-- or when it has been silent for SILENT_CS.  A node that reports while marked down is told so
-- and announces itself again ("back").
--
-- It also keeps the cluster view that `status` returns: nodes up, players per node,
-- messages per second, cross-node messages per second, and the latest changes.
local skynet = require "skynet"
require "skynet.manager"
local harbor = require "skynet.harbor"

local SILENT_CS = 300      -- a node that has not reported for this long is down
local MAX_EVENTS = 16

local self_harbor = skynet.harbor(skynet.self())
local start_time = skynet.now()

-- name -> { name, kind ("game"|"gate"), harbor, up, last, incarnation, rooms (array),
--           players, msgs, remote }   (msgs, remote: per second, from the latest report)
local nodes = {}
local order = {}           -- node names in the order first seen
local watching = {}        -- harbor id -> true while a link watcher runs
local events = {}          -- { seq, node, what }
local event_seq = 0

local function event(node, what, why)
	event_seq = event_seq + 1
	table.insert(events, { seq = event_seq, node = node, what = what })
	if #events > MAX_EVENTS then
		table.remove(events, 1)
	end
	skynet.error(string.format("MATCH: node %s %s%s", node, what, why and (" (" .. why .. ")") or ""))
end

local function mark_down(n, why)
	if n.up then
		n.up = false
		n.players = 0
		n.msgs, n.remote = 0, 0
		for _, r in ipairs(n.rooms) do
			r.players = 0
		end
		event(n.name, "down", why)
	end
end

-- Watch the harbor link to node `id`: connect() returns once it is up, link() once it drops.
local function watch(id)
	if self_harbor == 0 or id == 0 or id == self_harbor or watching[id] then
		return
	end
	watching[id] = true
	skynet.fork(function()
		while true do
			harbor.connect(id)
			harbor.link(id)
			for _, n in pairs(nodes) do
				if n.harbor == id then
					mark_down(n, "harbor link lost")
				end
			end
		end
	end)
end

-- harbor.queryname blocks until the name is known; give up after RESOLVE_CS.
local RESOLVE_CS = 300
local function resolve(name)
	local done = {}
	local handle
	skynet.fork(function()
		local ok, h = pcall(harbor.queryname, name)
		if ok then
			handle = h
		end
		skynet.wakeup(done)
	end)
	skynet.sleep(RESOLVE_CS, done)
	return handle
end

local CMD = {}

-- A node (re)announces itself.  rooms: array of { name = global name, handle, cap = capacity }.
function CMD.node_up(name, kind, id, rooms)
	local resolved = {}
	for _, r in ipairs(rooms or {}) do
		-- rooms are found by their global names; the handle the node sent is the tie-breaker
		-- while the name service still holds a previous incarnation's binding
		local handle = resolve(r.name) or r.handle
		if r.handle and handle ~= r.handle then
			skynet.error(string.format("MATCH: global name %s is %s, node %s says %s; using the node's",
				r.name, skynet.address(handle), name, skynet.address(r.handle)))
			handle = r.handle
		end
		resolved[#resolved + 1] = { name = r.name, handle = handle, cap = r.cap or 16, players = 0 }
	end
	local n = nodes[name]
	if n == nil then
		n = { name = name }
		nodes[name] = n
		order[#order + 1] = name
		event(name, "up", kind .. " node, harbor " .. id .. ", " .. #resolved .. " rooms")
	elseif not n.up then
		event(name, "back", "harbor " .. id)
	elseif n.incarnation ~= nil then
		event(name, "restarted")
	end
	n.kind, n.harbor, n.rooms = kind, id, resolved
	n.up, n.last = true, skynet.now()
	n.players, n.msgs, n.remote = 0, 0, 0
	n.incarnation = (n.incarnation or 0) + 1
	watch(id)
	return true
end

-- Once a second from every node.  stats: { players, msgs, remote, interval (cs), rooms = {name=players} }.
-- Returns false when the node must announce itself again.
function CMD.report(name, stats)
	local n = nodes[name]
	if n == nil or not n.up then
		return false
	end
	n.last = skynet.now()
	local per = 100 / math.max(stats.interval or 100, 1)
	n.players = stats.players or 0
	n.msgs = math.floor((stats.msgs or 0) * per + 0.5)
	n.remote = math.floor((stats.remote or 0) * per + 0.5)
	if stats.rooms then
		for _, r in ipairs(n.rooms) do
			r.players = stats.rooms[r.name] or r.players
		end
	end
	return true
end

-- Place a player into the emptiest room with space, preferring nodes other than `avoid`.
-- Returns room name, room handle, node name; or nil, reason.
function CMD.place(player, user, agent, avoid)
	local tried = {}
	while true do
		local best, best_node, best_score
		for _, name in ipairs(order) do
			local n = nodes[name]
			if n.up and n.kind == "game" then
				for _, r in ipairs(n.rooms) do
					if not tried[r] and r.players < r.cap then
						-- rooms on the avoided node only when nothing else has space
						local score = r.players + ((name == avoid) and 100000 or 0)
						if best_score == nil or score < best_score then
							best, best_node, best_score = r, n, score
						end
					end
				end
			end
		end
		if best == nil then
			return nil, "nospace"
		end
		tried[best] = true
		local ok, joined, count = pcall(skynet.call, best.handle, "lua", "join", player, user, agent)
		if not ok then
			mark_down(best_node, "call failed: " .. tostring(joined):match("^[^\n]*"))
		elseif joined then
			best.players = count
			best_node.players = best_node.players + 1
			return best.name, best.handle, best_node.name
		end
		-- full: try the next room
	end
end

-- An agent's call into a room failed: that room's node is gone (or the room is).
function CMD.lost(room_name, node_name)
	local n = nodes[node_name]
	if n and n.up then
		for _, r in ipairs(n.rooms) do
			if r.name == room_name then
				mark_down(n, "a call into " .. room_name .. " failed")
				break
			end
		end
	end
	return true
end

local function status_string()
	local up, all, nodelist, players, msgs, remote, rooms = 0, 0, {}, {}, {}, {}, {}
	for _, name in ipairs(order) do
		local n = nodes[name]
		all = all + 1
		if n.up then up = up + 1 end
		nodelist[#nodelist + 1] = string.format("%s:%s:%d:%s", name, n.up and "up" or "down", n.harbor, n.kind)
		players[#players + 1] = name .. ":" .. n.players
		msgs[#msgs + 1] = name .. ":" .. n.msgs
		remote[#remote + 1] = name .. ":" .. n.remote
		if n.kind == "game" then
			rooms[#rooms + 1] = name .. ":" .. (n.up and #n.rooms or 0)
		end
	end
	local ev = {}
	for _, e in ipairs(events) do
		ev[#ev + 1] = e.seq .. ":" .. e.node .. ":" .. e.what
	end
	return string.format("up=%d all=%d nodes=%s players=%s msgs=%s remote=%s rooms=%s events=%s uptime=%d",
		up, all, table.concat(nodelist, ","), table.concat(players, ","), table.concat(msgs, ","),
		table.concat(remote, ","), table.concat(rooms, ","), table.concat(ev, ","),
		(skynet.now() - start_time) // 100)
end

function CMD.status()
	return status_string()
end

local function watch_silence()
	local ticks = 0
	while true do
		skynet.sleep(100)
		local now = skynet.now()
		for _, n in pairs(nodes) do
			if n.up and now - n.last > SILENT_CS then
				mark_down(n, "silent for " .. (now - n.last) // 100 .. " s")
			end
		end
		ticks = ticks + 1
		if ticks % 10 == 0 then
			skynet.error("MATCH: " .. status_string())
		end
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = CMD[cmd]
		if f == nil then
			error("MATCH: unknown command " .. tostring(cmd))
		end
		skynet.retpack(f(...))
	end)
	skynet.register "MATCH"
	skynet.fork(watch_silence)
end)
