-- demo_main — the `start` service of every demo node.  What the node does comes from config
-- keys (which node.conf fills from the environment):
--   demo_node        this node's name, e.g. "master", "game1"
--   demo_roles       comma list of: match (MATCH, the matchmaker), login (LOGIN),
--                    gate (clients' TCP gate + agents), game[:NAME] (rooms; NAME defaults to
--                    demo_node, and a single-process demo runs game:game1,game:game2)
--   demo_gate        host:port the gate listens on (gate role)
--   demo_rooms, demo_room_cap   rooms per game node and players per room
--   demo_health_file where to write this node's health (optional)
--
-- Health: once a second the node writes "joined <node> <time>" to demo_health_file when it has
-- joined, else "joining <node> <time> <why>".  Joined means: the harbor is ready (the master
-- sent this node the cluster table; bootstrap waits for that before starting us), the harbor
-- link to the node that hosts MATCH is up (harbor.connect / harbor.link, watched all the time),
-- and every game or gate role is known to the matchmaker.  deploy/healthcheck.sh reads the file
-- for Docker.
local skynet = require "skynet"
local harbor = require "skynet.harbor"

local node = assert(skynet.getenv "demo_node", "config key demo_node is not set")
local roles = skynet.getenv "demo_roles" or "match,login,gate,game"
local health_file = skynet.getenv "demo_health_file"
if health_file == "" then
	health_file = nil
end

local parts = {}          -- { role, name, handle }

local function launch(role, name)
	local handle
	if role == "match" then
		handle = skynet.newservice "demo_match"
	elseif role == "login" then
		handle = skynet.newservice "demo_login"
	elseif role == "game" then
		handle = skynet.newservice("demo_game", name, skynet.getenv "demo_rooms" or 4,
			skynet.getenv "demo_room_cap" or 16)
	elseif role == "gate" then
		local addr = assert(skynet.getenv "demo_gate", "the gate role needs config key demo_gate")
		local host, port = addr:match("^(.*):(%d+)$")
		assert(host, "demo_gate must be host:port, got " .. addr)
		handle = skynet.newservice("demo_watchdog", name, host, port, skynet.getenv "demo_maxclient" or 4096)
	else
		error("unknown role " .. role)
	end
	parts[#parts + 1] = { role = role, name = name, handle = handle }
end

-- The harbor link to MATCH's node: nil while MATCH's node is not known yet, then true/false.
local self_harbor = skynet.harbor(skynet.self())
local match_node
local match_link

local function watch_match_link()
	-- MATCH is a global name; queryname waits until the master knows it
	local handle
	repeat
		local ok, h = pcall(harbor.queryname, "MATCH")
		if ok and h then
			handle = h
		else
			skynet.sleep(100)
		end
	until handle
	match_node = skynet.harbor(handle)
	if match_node == self_harbor then
		match_link = true
		return
	end
	skynet.error(string.format("node %s: MATCH is on harbor node %d; watching the link", node, match_node))
	while true do
		harbor.connect(match_node)   -- returns once the link is up
		match_link = true
		skynet.error(string.format("node %s: harbor link to node %d up", node, match_node))
		harbor.link(match_node)      -- returns once it is down
		match_link = false
		skynet.error(string.format("node %s: harbor link to node %d down", node, match_node))
	end
end

-- true, or false and why not
local function all_joined()
	if self_harbor ~= 0 then
		if match_node == nil then
			return false, "MATCH-unknown"
		elseif not match_link then
			return false, "no-link-to-node-" .. match_node
		end
	end
	for _, p in ipairs(parts) do
		if p.role == "game" or p.role == "gate" then
			local ok, joined = pcall(skynet.call, p.handle, "lua", "joined")
			if not ok or not joined then
				return false, p.role .. "-" .. p.name .. "-not-known-to-MATCH"
			end
		end
	end
	return true
end

local function write_health(state, why)
	if not health_file then
		return
	end
	local tmp = health_file .. ".tmp"
	local f = io.open(tmp, "w")
	if f then
		f:write(string.format("%s %s %d%s\n", state, node, os.time(), why and (" " .. why) or ""))
		f:close()
		os.rename(tmp, health_file)
	end
end

skynet.start(function()
	-- match and login first: the other roles announce themselves to them
	local wanted = {}
	for r in roles:gmatch("[^,%s]+") do
		local role, name = r:match("^(%a+):([%w_.-]+)$")
		wanted[#wanted + 1] = { role = role or r, name = name or node }
	end
	local rank = { match = 1, login = 2, game = 3, gate = 4 }
	table.sort(wanted, function(a, b) return (rank[a.role] or 9) < (rank[b.role] or 9) end)
	for _, w in ipairs(wanted) do
		launch(w.role, w.name)
	end
	skynet.error(string.format("node %s (harbor %d) started roles %s", node, skynet.harbor(skynet.self()), roles))
	if self_harbor ~= 0 then
		skynet.fork(watch_match_link)
	end
	skynet.fork(function()
		local was
		while true do
			local now, why = all_joined()
			write_health(now and "joined" or "joining", why)
			if now ~= was then
				skynet.error(string.format("NODE %s %s%s", node, now and "JOINED" or "NOT JOINED",
					why and (" (" .. why .. ")") or ""))
				was = now
			end
			skynet.sleep(100)
		end
	end)
end)
