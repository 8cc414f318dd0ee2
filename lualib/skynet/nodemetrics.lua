-- skynet.nodemetrics — this node's numbers as Prometheus metrics (the metrics
-- service's /metrics page and the console's `metrics` command).
--
--   local nodemetrics = require "skynet.nodemetrics"
--   local m = nodemetrics.new { topn = 10 }
--   m:poll()           -- fold socket byte counts in (call every few seconds)
--   m:render()         -> exposition text
--
-- Sources: skynet.metrics.collect (services, messages, cpu, timers, overloads,
-- longest queues), the socket list (open sockets, bytes), skynet.memory.total
-- (Lua memory) and skynet.nodestatus (peers and their links).
--
-- Socket bytes: the socket layer reports bytes per *open* socket, so the
-- byte counters here are kept by this object: each poll adds what every open
-- socket moved since the previous poll.  Bytes a socket moved after the last
-- poll before it closed are not counted, which is why the metrics service
-- polls every few seconds and not only when scraped.
local skynet = require "skynet"
local socketdriver = require "skynet.socketdriver"
local metrics = require "skynet.metrics"
local memory = require "skynet.memory"
local prometheus = require "skynet.prometheus"
local nodestatus = require "skynet.nodestatus"

local nodemetrics = {}
local obj = {}
obj.__index = obj

function nodemetrics.new(opts)
	opts = opts or {}
	return setmetatable({
		topn = math.max(1, math.min(tonumber(opts.topn) or 10, 16)),
		sockets = {},        -- id -> { peer=, read=, write= } at the last poll
		read_total = 0,
		write_total = 0,
		accepted_total = 0,
		scrapes = 0,
	}, obj)
end

-- Folds the socket list into the byte counters; returns the list.
function obj:poll()
	local list = socketdriver.info()
	local seen = {}
	for _, s in ipairs(list) do
		local key = s.id
		seen[key] = true
		local last = self.sockets[key]
		local ident = tostring(s.type == "LISTEN" and "listen" or "io") .. tostring(s.peer or s.sock)
		if last == nil or last.ident ~= ident
			or (s.read or 0) < last.read or (s.write or 0) < last.write
			or (s.accept or 0) < last.accept then
			last = { ident = ident, read = 0, write = 0, accept = 0 }
			self.sockets[key] = last
		end
		local r, w, a = s.read or 0, s.write or 0, s.accept or 0
		self.read_total = self.read_total + (r - last.read)
		self.write_total = self.write_total + (w - last.write)
		self.accepted_total = self.accepted_total + (a - last.accept)
		last.read, last.write, last.accept = r, w, a
	end
	for key in pairs(self.sockets) do
		if not seen[key] then
			self.sockets[key] = nil
		end
	end
	return list
end

local function add_core(r, topn)
	local m = metrics.collect(topn)
	r:add("skiff_services", "gauge", "Services alive on this node.", m.services)
	r:declare("skiff_module_services", "gauge", "Services alive, by service type (C module).")
	for _, mod in ipairs(m.modules) do
		r:add("skiff_module_services", "gauge", nil, mod.services, { module = mod.name })
	end
	r:declare("skiff_messages_dispatched_total", "counter",
		"Messages dispatched to services, by service type (C module), including services that exited.")
	for _, mod in ipairs(m.modules) do
		r:add("skiff_messages_dispatched_total", "counter", nil, mod.messages, { module = mod.name })
	end
	r:add("skiff_worker_busy_seconds_total", "counter",
		"CPU time worker threads spent in service callbacks (config profile = true).", m.cpu)
	r:declare("skiff_module_busy_seconds_total", "counter", "Callback CPU time, by service type (C module).")
	for _, mod in ipairs(m.modules) do
		r:add("skiff_module_busy_seconds_total", "counter", nil, mod.cpu, { module = mod.name })
	end
	r:add("skiff_timer_events_total", "counter", "Timer expiries delivered to services.", m.timer_events)
	r:add("skiff_overload_warnings_total", "counter",
		"\"May overload\" warnings: a service queue grew past the warning threshold.", m.overloads)
	r:declare("skiff_queue_length", "gauge",
		string.format("Messages waiting in the longest service queues (top %d).", topn))
	local longest = 0
	for _, q in ipairs(m.queues) do
		if q.length > longest then longest = q.length end
		r:add("skiff_queue_length", "gauge", nil, q.length,
			{ service = string.format(":%08x", q.handle), module = q.module or "" })
	end
	r:add("skiff_queue_length_max", "gauge", "Length of the longest service queue.", longest)
end

local SOCKET_TYPES = { "LISTEN", "TCP", "UDP", "BIND", "CLOSING" }

local function add_sockets(self, r)
	local list = self:poll()
	local count = {}
	for _, t in ipairs(SOCKET_TYPES) do count[t] = 0 end
	for _, s in ipairs(list) do
		count[s.type] = (count[s.type] or 0) + 1
	end
	for _, t in ipairs(SOCKET_TYPES) do
		r:add("skiff_sockets_open", "gauge", "Sockets open, by kind.", count[t], { type = string.lower(t) })
	end
	r:add("skiff_socket_received_bytes_total", "counter", "Bytes read from sockets.", self.read_total)
	r:add("skiff_socket_sent_bytes_total", "counter", "Bytes written to sockets.", self.write_total)
	r:add("skiff_socket_accepted_total", "counter", "Connections accepted on listen sockets.",
		self.accepted_total)
end

local function add_cluster(r)
	local st = nodestatus.get()
	local me = st.nodes[1]
	r:add("skiff_node_info", "gauge", "This node: id, name, mode (value is always 1).", 1, {
		node = tostring(st.harbor), name = me.name or "", mode = st.mode,
		incarnation = me.incarnation or "",
	})
	if st.mode ~= "harbor" then
		r:add("skiff_global_names", "gauge", "Global names known to this node.", #st.names)
		return
	end
	r:add("skiff_harbor_status_available", "gauge",
		"1 when the harbor service answered STATUS (per-peer link metrics below need it).",
		st.detail and 1 or 0)
	if st.master then
		r:add("skiff_harbor_master_up", "gauge", "1 while the link to the harbor master is up.",
			st.master.state == "up" and 1 or 0)
	end
	r:add("skiff_global_names", "gauge", "Global names known to this node.", #st.names)
	r:declare("skiff_harbor_peer_up", "gauge", "1 while the link to the peer node is up.")
	r:declare("skiff_harbor_peer_info", "gauge", "Peer node identity (value is always 1).")
	for i = 2, #st.nodes do
		local p = st.nodes[i]
		local peer = { peer = tostring(p.id) }
		-- a leaving peer drains but its link is up (state "leaving" in peer_info)
		r:add("skiff_harbor_peer_up", "gauge", nil, (p.state == "up" or p.state == "leaving") and 1 or 0, peer)
		r:add("skiff_harbor_peer_info", "gauge", nil, 1, {
			peer = tostring(p.id), name = p.name or "", address = p.address or "",
			incarnation = p.incarnation or "", state = p.state or "unknown",
		})
		r:add("skiff_harbor_frames_sent_total", "counter", "Frames sent to the peer.", p.frames_sent, peer)
		r:add("skiff_harbor_sent_bytes_total", "counter", "Bytes sent to the peer (sealed frames).",
			p.bytes_sent, peer)
		r:add("skiff_harbor_frames_received_total", "counter", "Frames received from the peer.",
			p.frames_received, peer)
		r:add("skiff_harbor_received_bytes_total", "counter", "Bytes received from the peer.",
			p.bytes_received, peer)
		r:add("skiff_harbor_calls_failed_total", "counter",
			"Calls to the peer's services failed because the peer was down.", p.calls_failed, peer)
		r:add("skiff_harbor_queued_messages", "gauge", "Messages waiting for the link to the peer.",
			p.queued, peer)
		if p.rtt then
			r:add("skiff_harbor_heartbeat_rtt_seconds", "gauge", "Last heartbeat round trip to the peer.",
				p.rtt, peer)
		end
		if p.last_heartbeat then
			r:add("skiff_harbor_last_heard_seconds", "gauge", "Seconds since anything arrived from the peer.",
				p.last_heartbeat, peer)
		end
	end
end

function obj:render()
	self.scrapes = self.scrapes + 1
	local r = prometheus.new()
	local t0 = skynet.hpc()
	add_core(r, self.topn)
	r:add("skiff_lua_memory_bytes", "gauge", "Memory held by the Lua states of all services.", memory.total())
	add_sockets(self, r)
	add_cluster(r)
	r:add("skiff_start_time_seconds", "gauge", "When this node started, in seconds since the Unix epoch.",
		skynet.starttime())
	r:add("skiff_uptime_seconds", "gauge", "Seconds since this node started.", skynet.now() / 100)
	r:add("skiff_metrics_scrapes_total", "counter", "Times these metrics were rendered.", self.scrapes)
	r:add("skiff_metrics_render_seconds", "gauge", "Time it took to collect these metrics.",
		(skynet.hpc() - t0) / 1e9)
	return r:text()
end

return nodemetrics
