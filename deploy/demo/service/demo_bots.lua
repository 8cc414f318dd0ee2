-- demo_bots — the load generator's controller and the demo's live status view.  Config keys:
--   demo_connect   host:port of the gate
--   demo_bots      number of simulated players (default 40)
--   demo_per_bot   players per demo_bot service (default 20)
--   demo_duration  seconds to run, 0 = until stopped (default 0)
--   demo_secret    the login secret (as on the server)
--   demo_json      "1": also print one machine-readable line per second ("STATS {...}")
--
-- Once a second it asks the gate for the cluster's status (nodes, players per node, messages
-- per second, changes) over its own connection, gathers the bots' counters and round trips, and
-- prints one line; each change the matchmaker saw (node down, node back) gets a line of its own.
-- After demo_duration it prints "DEMO DONE ..." and stops the node.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local proto = require "demo.proto"

local connect = assert(skynet.getenv "demo_connect", "config key demo_connect is not set")
local host, port = connect:match("^(.*):(%d+)$")
port = tonumber(port)
local nbots = tonumber(skynet.getenv "demo_bots") or 40
local per = tonumber(skynet.getenv "demo_per_bot") or 20
local duration = tonumber(skynet.getenv "demo_duration") or 0
local secret = assert(skynet.getenv "demo_secret", "config key demo_secret is not set")
local json = skynet.getenv "demo_json" == "1"

local workers = {}
local t0

local function out(line)
	io.stdout:write(line, "\n")
	io.stdout:flush()
end

-- a small JSON writer for the STATS line (strings, numbers, booleans, arrays, objects)
local function encode(v)
	local t = type(v)
	if t == "number" then
		if v ~= v or v == math.huge or v == -math.huge then return "null" end
		return math.type(v) == "integer" and tostring(v) or string.format("%.3f", v)
	elseif t == "boolean" then
		return tostring(v)
	elseif t == "string" then
		return '"' .. v:gsub('[%c"\\]', function(c)
			return string.format("\\u%04x", c:byte())
		end) .. '"'
	elseif t == "table" then
		if #v > 0 or next(v) == nil and getmetatable(v) == "array" then
			local items = {}
			for i = 1, #v do items[i] = encode(v[i]) end
			return "[" .. table.concat(items, ",") .. "]"
		end
		local keys = {}
		for k in pairs(v) do keys[#keys + 1] = tostring(k) end
		table.sort(keys)
		local items = {}
		for _, k in ipairs(keys) do
			items[#items + 1] = encode(k) .. ":" .. encode(v[k])
		end
		return "{" .. table.concat(items, ",") .. "}"
	end
	return "null"
end

local function array(t)
	return setmetatable(t, { __metatable = "array" })
end

-- The control connection: status requests only.
local ctl = { fd = nil, seq = 0 }

local function ctl_status()
	if ctl.fd == nil then
		ctl.fd = socket.open(host, port)
		if not ctl.fd then
			ctl.fd = nil
			return nil
		end
	end
	ctl.seq = ctl.seq + 1
	socket.write(ctl.fd, proto.frame("status " .. ctl.seq))
	while true do
		local head = socket.read(ctl.fd, 2)
		local body = head and socket.read(ctl.fd, string.unpack(">I2", head))
		if not body then
			socket.close(ctl.fd)
			ctl.fd = nil
			return nil
		end
		local op, session, _, rest = proto.parse(body)
		if session == ctl.seq then
			return op == "ok" and proto.kv_decode(rest) or nil
		end
	end
end

local function percentile(sorted, q)
	if #sorted == 0 then return 0 end
	local i = math.max(1, math.ceil(q * #sorted))
	return sorted[i]
end

local function cluster_view(kv)
	local view = { up = tonumber(kv.up) or 0, all = tonumber(kv.all) or 0, nodes = {}, events = array {} }
	for _, f in ipairs(proto.list_decode(kv.nodes)) do
		view.nodes[f[1]] = { up = f[2] == "up", harbor = tonumber(f[3]), kind = f[4], players = 0, msgs = 0, remote = 0 }
	end
	for key, field in pairs { players = "players", msgs = "msgs", remote = "remote" } do
		for _, f in ipairs(proto.list_decode(kv[key])) do
			if view.nodes[f[1]] then view.nodes[f[1]][field] = tonumber(f[2]) or 0 end
		end
	end
	for _, f in ipairs(proto.list_decode(kv.events)) do
		view.events[#view.events + 1] = { seq = tonumber(f[1]), node = f[2], what = f[3] }
	end
	return view
end

local last_event = 0

local function tick()
	local elapsed = (skynet.now() - t0) / 100
	-- bots
	local agg = { connected = 0, in_room = 0, errors = 0, lost = 0, rematched = 0, requests = 0, pushes = 0, says = 0,
		by_node = {}, lost_by_node = {}, last_errors = array {} }
	local samples = {}
	for _, w in ipairs(workers) do
		local ok, st, r = pcall(skynet.call, w, "lua", "stats")
		if ok then
			for _, k in ipairs { "connected", "in_room", "errors", "lost", "rematched", "requests", "pushes", "says" } do
				agg[k] = agg[k] + st[k]
			end
			for n, c in pairs(st.by_node) do
				if c > 0 then agg.by_node[n] = (agg.by_node[n] or 0) + c end
			end
			for n, c in pairs(st.lost_by_node) do
				agg.lost_by_node[n] = (agg.lost_by_node[n] or 0) + c
			end
			for _, e in ipairs(st.last_errors) do
				agg.last_errors[#agg.last_errors + 1] = e
			end
			table.move(r, 1, #r, #samples + 1, samples)
		end
	end
	table.sort(samples)
	local p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
	-- the cluster, as the matchmaker sees it
	local kv = ctl_status()
	local view = kv and cluster_view(kv)
	local names, gate_parts, game_parts, msgs, remote = {}, {}, {}, 0, 0
	if view then
		for name in pairs(view.nodes) do names[#names + 1] = name end
		table.sort(names)
		for _, name in ipairs(names) do
			local n = view.nodes[name]
			msgs, remote = msgs + n.msgs, remote + n.remote
			local text = name .. "=" .. (n.up and n.players or "down")
			if n.kind == "game" then
				game_parts[#game_parts + 1] = text
			else
				gate_parts[#gate_parts + 1] = text
			end
		end
	end
	local line = string.format("[%4ds] %s | players %s (gate %s) | %d msg/s, %d cross-node | rtt p50 %.1f ms p99 %.1f ms | bots %d/%d in rooms, %d errors, %d re-matched",
		math.floor(elapsed), view and string.format("nodes %d/%d up", view.up, view.all) or "gate unreachable",
		#game_parts > 0 and table.concat(game_parts, " ") or "-", #gate_parts > 0 and table.concat(gate_parts, " ") or "-",
		msgs, remote, p50, p99, agg.in_room, nbots, agg.errors, agg.rematched)
	out(line)
	if view then
		for _, e in ipairs(view.events) do
			if e.seq > last_event then
				last_event = e.seq
				if elapsed > 1.5 or (e.what ~= "up") then
					out(string.format("[%4ds] CHANGE: node %s %s", math.floor(elapsed), e.node, e.what))
				end
			end
		end
	end
	if json then
		agg.t = elapsed
		agg.bots = nbots
		agg.rtt_p50, agg.rtt_p99, agg.samples = p50, p99, #samples
		agg.cluster = view or false
		out("STATS " .. encode(agg))
	end
	return agg
end

skynet.start(function()
	io.stdout:setvbuf("line")
	out(string.format("demo: %d bots against the gate at %s:%d%s", nbots, host, port,
		duration > 0 and string.format(" for %d s", duration) or " (Ctrl-C stops)"))
	-- wait for the gate (the nodes may still be starting)
	local waited = 0
	while not ctl_status() do
		waited = waited + 1
		if waited == 60 then
			out("demo: the gate at " .. connect .. " did not answer for 30 s; still trying")
		end
		skynet.sleep(50)
	end
	t0 = skynet.now()
	for first = 1, nbots, per do
		local n = math.min(per, nbots - first + 1)
		workers[#workers + 1] = skynet.newservice("demo_bot", first, n, host, port, secret)
	end
	skynet.fork(function()
		local last
		while true do
			skynet.sleep(100)
			local ok, agg = pcall(tick)
			if ok then
				last = agg
			else
				out("demo: status failed: " .. tostring(agg))
			end
			if duration > 0 and (skynet.now() - t0) >= duration * 100 then
				for _, w in ipairs(workers) do
					pcall(skynet.call, w, "lua", "stop")
				end
				out(string.format("DEMO DONE errors=%d lost=%d rematched=%d requests=%d",
					last and last.errors or -1, last and last.lost or -1, last and last.rematched or -1,
					last and last.requests or -1))
				skynet.abort()
				return
			end
		end
	end)
end)
