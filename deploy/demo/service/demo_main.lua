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
-- Health: once a second the node writes "joined <node> <time>" to demo_health_file when every
-- role is up and known to the matchmaker (for a game or gate node that means its link to the
-- master node works), else "joining ...".  deploy/healthcheck.sh reads it for Docker.
local skynet = require "skynet"

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

local function all_joined()
	for _, p in ipairs(parts) do
		if p.role == "game" or p.role == "gate" then
			local ok, joined = pcall(skynet.call, p.handle, "lua", "joined")
			if not ok or not joined then
				return false
			end
		end
	end
	return true
end

local function write_health(state)
	if not health_file then
		return
	end
	local tmp = health_file .. ".tmp"
	local f = io.open(tmp, "w")
	if f then
		f:write(string.format("%s %s %d\n", state, node, os.time()))
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
	skynet.fork(function()
		local was
		while true do
			local now = all_joined()
			write_health(now and "joined" or "joining")
			if now ~= was then
				skynet.error(string.format("NODE %s %s", node, now and "JOINED" or "NOT JOINED"))
				was = now
			end
			skynet.sleep(100)
		end
	end)
end)
