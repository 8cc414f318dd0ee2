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
--       { id=, name=, address=,
--         state="up"|"leaving"|"left"|"down"|"connecting"|"unknown" (leaving:
--           it drains and still answers; left: it drained and stopped),
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
-- command STATS (documented at the top of harbor/harbor_stats.c): lines of
-- space-separated key=value fields,
--   self id= incarnation= master=up|down master_addr= names= name_queued= name= state=
--   peer id= addr= state= incarnation= hb_age_ms= rtt_us= frames_out= bytes_out=
--        frames_in= bytes_in= calls_failed= queued= pending_calls=
--   name GLOBALNAME :HANDLE
-- ("-" for unknown values).  A harbor without STATS leaves `detail` false and
-- the view shows this node only.
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

local function fields(w)
	local f = {}
	for i = 2, #w do
		local k, v = string.match(w[i], "^([%w_]+)=(.*)$")
		if k then f[k] = v end
	end
	return f
end

-- Parses a STATS answer into st (exported for tests of the format).
function nodestatus.parse(text, st)
	st = st or { nodes = {}, names = {} }
	local peers = {}
	for line in string.gmatch(text, "[^\n]+") do
		local w = words(line)
		local kind = w[1]
		if kind == "self" then
			local f = fields(w)
			local me = st.nodes[1]
			me.id = tonumber(f.id) or me.id
			me.incarnation = opt(f.incarnation)
			me.name = opt(f.name) or me.name   -- the harbor's harbor_name
			me.state = opt(f.state) or me.state -- "leaving" while this node drains
			st.master = { state = f.master or "down", address = opt(f.master_addr) }
		elseif kind == "peer" then
			local f = fields(w)
			local recv, rtt = num(f.hb_age_ms), num(f.rtt_us)
			local pid = tonumber(f.id)
			-- The harbor says "unknown" for a node the master removed; for an
			-- operator a node that was seen (has an incarnation) and left is down.
			local state = f.state or "unknown"
			if state == "unknown" and f.incarnation and not string.match(f.incarnation, "^0+$") then
				state = "down"
			end
			peers[#peers + 1] = {
				id = pid,
				-- harbor nodes are known by id; a label from STATS wins if it has one
				name = opt(f.name) or (pid and string.format("node%d", pid)),
				state = state,
				incarnation = opt(f.incarnation),
				address = opt(f.addr),
				last_heartbeat = recv and recv / 1000,
				frames_sent = num(f.frames_out) or 0,
				bytes_sent = num(f.bytes_out) or 0,
				frames_received = num(f.frames_in) or 0,
				bytes_received = num(f.bytes_in) or 0,
				rtt = rtt and rtt / 1e6,
				calls_failed = num(f.calls_failed) or 0,
				queued = num(f.queued) or 0,
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
		name = skynet.getenv "harbor_name" or skynet.getenv "node_name" or string.format("node%d", id),
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
		ok, text = pcall(skynet.call, ".harbor", "harbor", "STATS")
		unsupported = not ok
	end
	if ok and type(text) == "string" then
		nodestatus.parse(text, st)
		st.detail = true
	end
	return st
end

return nodestatus
