-- skynet.nodestatus — what this node knows about its cluster, for the console,
-- the metrics endpoint and skiff-status.
--
--   local nodestatus = require "skynet.nodestatus"
--   local st = nodestatus.get()
--   st = {
--     mode = "single" | "harbor",
--     harbor = this node's id (0 on a single node),
--     detail = true when the harbor answered STATUS (per-peer fields below
--              are present only then),
--     master = { state = "up"|"down", address = "host:port" } (harbor mode),
--     nodes = { -- this node first, then peers by id
--       { id=, name=, address=, state="up"|"down"|"connecting"|"unknown",
--         incarnation="16 hex digits", self=true|nil,
--         last_heartbeat = seconds since the peer was last heard from (nil: never),
--         frames_sent=, bytes_sent=, frames_received=, bytes_received=,
--         rtt = heartbeat round trip in seconds (nil: not measured yet),
--         calls_failed = requests failed because the peer was down,
--         queued = messages waiting for the link }, ... },
--     names = { { name=, handle=":xxxxxxxx", node= }, ... }  -- sorted by name
--   }
--
-- Harbor mode asks the harbor service (`.harbor`, "harbor" protocol) the text
-- command STATUS; its answer is lines of space-separated words:
--   self   ID INCARNATION ADDRESS NAME
--   master up|down ADDRESS
--   node   ID STATE INCARNATION ADDRESS NAME LAST_RECV_MS FRAMES_OUT BYTES_OUT
--          FRAMES_IN BYTES_IN RTT_US CALLS_FAILED QUEUED
--   name   GLOBALNAME :HANDLE
-- (INCARNATION: 16 hex digits; NAME "-" when unset; LAST_RECV_MS and RTT_US
-- -1 when unknown; counters are totals since this node started.)  A harbor
-- without STATUS leaves `detail` false and the view shows this node only.
-- On a single node the names come from `.cslave` LIST when it has it.
local skynet = require "skynet"

local nodestatus = {}

-- Set when the node's harbor controller did not know the query: ask only once,
-- so an older harbor does not log an error at every scrape.
local unsupported = false

local function harbor_id()
	return tonumber(skynet.getenv "harbor" or 0) or 0
end

local function words(line)
	local w = {}
	for x in string.gmatch(line, "%S+") do
		w[#w + 1] = x
	end
	return w
end

local function opt(s)
	if s == nil or s == "-" or s == "" then return nil end
	return s
end

local function num(s)
	local n = math.tointeger(tonumber(s))
	if n == nil or n < 0 then return nil end
	return n
end

-- Parses a STATUS answer into st (exported for tests of the format).
function nodestatus.parse(text, st)
	st = st or { nodes = {}, names = {} }
	local peers = {}
	for line in string.gmatch(text, "[^\n]+") do
		local w = words(line)
		local kind = w[1]
		if kind == "self" then
			local me = st.nodes[1]
			me.id = tonumber(w[2]) or me.id
			me.incarnation = w[3]
			me.address = opt(w[4]) or me.address
			me.name = opt(w[5]) or me.name
		elseif kind == "master" then
			st.master = { state = w[2], address = opt(w[3]) }
		elseif kind == "node" then
			local recv, rtt = num(w[7]), num(w[12])
			peers[#peers + 1] = {
				id = tonumber(w[2]),
				state = w[3],
				incarnation = w[4],
				address = opt(w[5]),
				name = opt(w[6]),
				last_heartbeat = recv and recv / 1000,
				frames_sent = num(w[8]) or 0,
				bytes_sent = num(w[9]) or 0,
				frames_received = num(w[10]) or 0,
				bytes_received = num(w[11]) or 0,
				rtt = rtt and rtt / 1e6,
				calls_failed = num(w[13]) or 0,
				queued = num(w[14]) or 0,
			}
		elseif kind == "name" then
			local h = tonumber(string.sub(w[3] or "", 2), 16)
			if w[2] and h then
				st.names[#st.names + 1] = { name = w[2], handle = string.format(":%08x", h), node = h >> 24 }
			end
		end
	end
	table.sort(peers, function(a, b) return (a.id or 0) < (b.id or 0) end)
	for _, p in ipairs(peers) do
		st.nodes[#st.nodes + 1] = p
	end
	table.sort(st.names, function(a, b) return a.name < b.name end)
	return st
end

function nodestatus.get()
	local id = harbor_id()
	local me = {
		id = id,
		name = skynet.getenv "node_name" or string.format("node%d", id),
		address = skynet.getenv "address",
		state = "up",
		self = true,
		incarnation = nil,
	}
	local st = {
		mode = id == 0 and "single" or "harbor",
		harbor = id,
		detail = false,
		nodes = { me },
		names = {},
	}
	if id == 0 then
		local ok, list = false, nil
		if not unsupported then
			ok, list = pcall(skynet.call, ".cslave", "lua", "LIST")
			unsupported = not ok
		end
		if ok and type(list) == "table" then
			for name, handle in pairs(list) do
				handle = type(handle) == "string" and tonumber(string.sub(handle, 2), 16) or handle
				st.names[#st.names + 1] = { name = name, handle = skynet.address(handle), node = 0 }
			end
			table.sort(st.names, function(a, b) return a.name < b.name end)
		end
		st.detail = not unsupported
		return st
	end
	require "skynet.harbor" -- registers the "harbor" protocol
	local ok, text = false, nil
	if not unsupported then
		ok, text = pcall(skynet.call, ".harbor", "harbor", "STATUS")
		unsupported = not ok
	end
	if ok and type(text) == "string" then
		nodestatus.parse(text, st)
		st.detail = true
	end
	return st
end

return nodestatus
