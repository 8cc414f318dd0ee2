-- skynet.console.cluster — the debug console's cluster views (a command
-- module of skynet.console.commands): `nodes`, `names`, `links`, `cluster`
-- (all three, plus the link tables of every other node that runs a console)
-- and `metrics` (the Prometheus text of this node).  Data comes from
-- skynet.nodestatus.  In harbor mode every console registers the global name
-- commands.console_name(id) and answers the "lua" command STATUS with its
-- node's status (services/debug_console.lua), which is how `cluster` on one
-- node shows every node's links.
local skynet = require "skynet"
local calltimeout = require "skynet.calltimeout"
local json = require "skynet.json"
local nodestatus = require "skynet.nodestatus"
local commands = require "skynet.console.commands"

local REMOTE_TIMEOUT = 100 -- cs, for asking other nodes' consoles

local function fmt_seconds(x)
	if x == nil then return "-" end
	if x < 1 then return string.format("%.1fms", x * 1000) end
	return string.format("%.2fs", x)
end

local function node_row(n)
	return {
		id = n.id, name = n.name, address = n.address, state = n.state,
		incarnation = n.incarnation, self = n.self,
		last_heartbeat = n.last_heartbeat,
	}
end

local function link_row(n)
	return {
		peer = n.id, state = n.state,
		frames_sent = n.frames_sent, bytes_sent = n.bytes_sent,
		frames_received = n.frames_received, bytes_received = n.bytes_received,
		rtt = n.rtt, calls_failed = n.calls_failed, queued = n.queued,
	}
end

local function nodes_of(st)
	local rows = json.array()
	for _, n in ipairs(st.nodes) do rows[#rows + 1] = node_row(n) end
	return rows
end

local function links_of(st)
	local rows = json.array()
	for i = 2, #st.nodes do rows[#rows + 1] = link_row(st.nodes[i]) end
	return rows
end

local function names_of(st)
	local rows = json.array()
	for _, n in ipairs(st.names) do rows[#rows + 1] = { name = n.name, handle = n.handle, node = n.node } end
	return rows
end

local function print_nodes(print, rows)
	print("id", "name", "address", "state", "incarnation", "last_heartbeat")
	for _, n in ipairs(rows) do
		print(n.id, n.name or "-", n.address or "-", n.state or "-", n.incarnation or "-",
			n.self and "self" or (n.last_heartbeat and fmt_seconds(n.last_heartbeat) .. " ago" or "-"))
	end
end

local function print_names(print, rows)
	print("name", "handle", "node")
	for _, n in ipairs(rows) do
		print(n.name, n.handle, n.node)
	end
end

local function print_links(print, rows)
	print("peer", "state", "frames_sent", "bytes_sent", "frames_received", "bytes_received",
		"rtt", "calls_failed", "queued")
	for _, l in ipairs(rows) do
		print(l.peer, l.state or "-", l.frames_sent or "-", l.bytes_sent or "-", l.frames_received or "-",
			l.bytes_received or "-", fmt_seconds(l.rtt), l.calls_failed or "-", l.queued or "-")
	end
end

local function status()
	local st = nodestatus.get()
	if not st.detail and st.mode == "harbor" then
		-- say so instead of showing an incomplete table as if it were whole
		st.note = "the harbor service did not answer STATUS: only this node is shown"
	end
	return st
end

-- other nodes' `cluster` asks this
commands.remote("STATUS", nodestatus.get)

local C = {}

C.nodes = {
	help = "nodes : the cluster's nodes (id, name, address, state, incarnation, last heartbeat)",
	readonly = true,
	run = function()
		local st = status()
		return { nodes = nodes_of(st), note = st.note }
	end,
	text = function(print, r)
		if r.note then print("# " .. r.note) end
		print_nodes(print, r.nodes)
	end,
}

C.names = {
	help = "names : global names and the node each lives on",
	readonly = true,
	run = function()
		local st = status()
		return { names = names_of(st), note = st.note }
	end,
	text = function(print, r)
		if r.note then print("# " .. r.note) end
		print_names(print, r.names)
	end,
}

C.links = {
	help = "links : this node's links (frames, bytes, heartbeat round trip, failed calls)",
	readonly = true,
	run = function()
		local st = status()
		return { node = st.harbor, links = links_of(st), note = st.note }
	end,
	text = function(print, r)
		if r.note then print("# " .. r.note) end
		print_links(print, r.links)
	end,
}

C.cluster = {
	help = "cluster : nodes, names and the links of every node with a console",
	readonly = true,
	run = function()
		local st = status()
		local r = {
			mode = st.mode, node = st.harbor, detail = st.detail, note = st.note,
			master = st.master,
			nodes = nodes_of(st), names = names_of(st),
			links = json.array({ { node = st.harbor, links = links_of(st) } }),
		}
		if st.mode == "harbor" then
			local where = {}
			for _, n in ipairs(st.names) do where[n.name] = n.handle end
			for i = 2, #st.nodes do
				local peer = st.nodes[i]
				local handle = where[commands.console_name(peer.id)]
				local entry = { node = peer.id }
				if peer.state ~= "up" and peer.state ~= "leaving" then -- a leaving node still answers
					entry.error = "node is " .. tostring(peer.state)
				elseif not handle then
					entry.error = "no console on that node"
				else
					local ok, remote = calltimeout(REMOTE_TIMEOUT, tonumber(string.sub(handle, 2), 16), "lua", "STATUS")
					if ok and type(remote) == "table" then
						entry.links = links_of(remote)
					else
						entry.error = "no answer: " .. tostring(remote)
					end
				end
				r.links[#r.links + 1] = entry
			end
		end
		return r
	end,
	text = function(print, r)
		print(string.format("cluster mode %s, seen from node %d", r.mode, r.node))
		if r.note then print("# " .. r.note) end
		if r.master then print("master", r.master.state or "-", r.master.address or "-") end
		print("")
		print("[nodes]")
		print_nodes(print, r.nodes)
		print("")
		print("[names]")
		print_names(print, r.names)
		for _, l in ipairs(r.links) do
			print("")
			print(string.format("[links of node %s]", tostring(l.node)))
			if l.error then
				print("# " .. l.error)
			else
				print_links(print, l.links)
			end
		end
	end,
}

local local_metrics -- a collector of our own when the node has no metrics service

C.metrics = {
	help = "metrics : this node's metrics in the Prometheus text format",
	readonly = true,
	run = function()
		if skynet.localname ".metrics" then
			local ok, text = pcall(skynet.call, ".metrics", "lua", "TEXT")
			if ok then return text end
		end
		if not local_metrics then
			local_metrics = require("skynet.nodemetrics").new()
		end
		return local_metrics:render()
	end,
	text = function(print, text)
		for line in string.gmatch(text, "[^\n]+") do print(line) end
	end,
}

return C
