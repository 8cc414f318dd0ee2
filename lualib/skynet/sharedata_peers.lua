-- skynet.sharedata_peers: the other nodes' sharedatad, for cluster-wide
-- shared data.  sharedatad owns the data; this module only knows who the
-- peers are, how to reach them and when one comes (back).
--
--   local peers = require("skynet.sharedata_peers").new(on_up)
--   peers.mode              "harbor", "cluster" or nil (a lone node)
--   peers.origin()          this node's name in versions: harbor id or cluster name
--   peers.register()        makes this sharedatad reachable by the others
--   peers.list()            the peers now: { key... } (harbor ids or cluster names)
--   peers.call(key, ...)    a "lua" call to that peer's sharedatad (raises on failure)
--   peers.send(key, ...)    the same, answer not awaited (a lost one is caught up by on_up)
--   peers.watch()           calls on_up(key) for every peer that is up now and
--                           every time one comes (back) up, for as long as the service lives
--
-- Harbor mode: each node's sharedatad registers the global name
-- "sharedatad<id>"; the peers are the ids in the harbor's STATS; one
-- coroutine per peer waits for the link to come up (harbor.connect), calls
-- on_up, then waits for it to go down (harbor.link).
--
-- Cluster mode (the `cluster` config key is set, `sharedata_cluster` is not
-- "off"): each node's sharedatad registers the cluster name "sharedatad"; the
-- peers are the nodes of clusterd's table with an address, but this node.
-- Cluster mode has no link events, so a peer is "up" when a call to it
-- succeeds: a peer that failed is retried after RETRY cs, then after twice as
-- long each time up to RETRY_MAX, and on_up runs when it answers again
-- (a push to it that fails marks it failed too).
local skynet = require "skynet"

local RETRY = 100  -- cs before the first new attempt at a cluster peer that failed
local RETRY_MAX = 3000 -- cs: the longest wait between two attempts
local SCAN = 100   -- cs before asking the harbor for its members again after a failed ask

local M = {}

local function harbor_peers()
	local list = {}
	local ok, text = pcall(skynet.call, ".harbor", "harbor", "STATS")
	if not ok then
		return list
	end
	for line in text:gmatch("[^\n]+") do
		local id, state = line:match("^peer id=(%d+) .*state=(%a+)")
		if id then
			list[#list + 1] = { key = tonumber(id), state = state }
		end
	end
	return list
end

function M.new(on_up)
	local p = {}
	local harbor_id = tonumber(skynet.getenv "harbor" or 0) or 0
	local cluster_file = skynet.getenv "cluster"
	if harbor_id ~= 0 then
		p.mode = "harbor"
	elseif cluster_file and skynet.getenv "sharedata_cluster" ~= "off" then
		p.mode = "cluster"
	end

	if p.mode == "harbor" then
		local harbor = require "skynet.harbor"
		local watched = {}
		function p.origin() return harbor_id end
		function p.register() harbor.globalname("sharedatad" .. harbor_id) end
		function p.list()
			local list = {}
			for _, e in ipairs(harbor_peers()) do
				if e.key ~= harbor_id then list[#list + 1] = e.key end
			end
			return list
		end
		function p.call(id, ...) return skynet.call("sharedatad" .. id, "lua", ...) end
		function p.send(id, ...) skynet.send("sharedatad" .. id, "lua", ...) end
		local function watch_one(id)
			while true do
				harbor.connect(id)
				local ok, err = pcall(on_up, id)
				if not ok then
					skynet.error(string.format("sharedatad: catching up with node %d: %s", id, tostring(err)))
				end
				harbor.link(id)
			end
		end
		-- The harbor answers MEMBERS when the member set differs from the
		-- generation we saw: no polling (a 250-node mesh polled STATS, 250
		-- lines, every second on every node).
		function p.watch()
			skynet.fork(function()
				for _, id in ipairs(p.list()) do
					if not watched[id] then
						watched[id] = true
						skynet.fork(watch_one, id)
					end
				end
				local seen = ""
				while true do
					local ok, text = pcall(skynet.call, ".harbor", "harbor", "MEMBERS " .. seen)
					if not ok then
						skynet.sleep(SCAN)
					else
						seen = text:match("^%d+")
						for id in text:gmatch(" (%d+)") do
							id = tonumber(id)
							if not watched[id] then
								watched[id] = true
								skynet.fork(watch_one, id)
							end
						end
					end
				end
			end)
		end
		-- peers whose link is not down: the ones worth waiting for at start
		function p.reachable()
			local list = {}
			for _, e in ipairs(harbor_peers()) do
				if e.key ~= harbor_id and e.state ~= "down" then list[#list + 1] = e.key end
			end
			return list
		end
	elseif p.mode == "cluster" then
		local cluster = require "skynet.cluster"
		-- name -> { at = when to try next (cs), delay = cs }: a peer to catch up
		-- with once it answers; the delay doubles up to RETRY_MAX while it does not
		local failed = {}
		local busy = {}
		local function fail(name)
			local f = failed[name]
			if f == nil then
				failed[name] = { at = skynet.now() + RETRY, delay = RETRY }
			end
		end
		local function table_of_nodes()
			local clusterd = skynet.uniqueservice "clusterd"
			return skynet.call(clusterd, "lua", "nodes")
		end
		function p.origin()
			local _, self = table_of_nodes()
			return self or ""
		end
		function p.register() cluster.register("sharedatad") end
		function p.list()
			local nodes, self = table_of_nodes()
			local list = {}
			for name, address in pairs(nodes) do
				if address and name ~= self then list[#list + 1] = name end
			end
			table.sort(list)
			return list
		end
		p.reachable = p.list
		function p.call(name, ...) return cluster.call(name, "@sharedatad", ...) end
		function p.send(name, ...)
			skynet.fork(function(...)
				local ok, err = pcall(cluster.call, name, "@sharedatad", ...)
				if not ok and not tostring(err):find("unknown name", 1, true) then
					-- down or unreachable: caught up when it answers again;
					-- a node without sharedatad catches up itself when it starts one
					fail(name)
				end
			end, ...)
		end
		local function attempt(name, f)
			if busy[name] then return end
			busy[name] = true
			local ok, err = pcall(on_up, name)
			busy[name] = nil
			if ok or tostring(err):find("unknown name", 1, true) then
				failed[name] = nil -- caught up, or it has no sharedatad yet (it pulls when it starts one)
			else
				f.delay = math.min(f.delay * 2, RETRY_MAX)
				f.at = skynet.now() + f.delay
			end
		end
		function p.watch()
			for _, name in ipairs(p.list()) do
				failed[name] = { at = 0, delay = RETRY }
			end
			skynet.fork(function()
				while true do
					local now = skynet.now()
					for name, f in pairs(failed) do
						if f.at <= now then
							skynet.fork(attempt, name, f)
						end
					end
					skynet.sleep(RETRY)
				end
			end)
		end
	else
		function p.origin() return 0 end
		function p.register() end
		function p.list() return {} end
		p.reachable = p.list
		function p.watch() end
	end
	return p
end

return M
