-- multicastd (unique per node) — multicast channels.
--
-- A channel id carries its owner node in its low 8 bits.  On every node,
-- channel[c] is the set of *local* subscribers of channel c (channel_n[c] its
-- size); on the owner node, remote[c] is the set of other nodes that have at
-- least one subscriber, each mapped to that node's multicastd.
--
-- Local delivery: a publisher hands over one package (skynet.multicast.core);
-- we bind it to the number of local subscribers and send each the package
-- pointer as PTYPE_MULTICAST with session = channel id and source = the
-- publisher.  A pointer never leaves the node: between nodes the message
-- travels as a string inside an ordinary "lua" message, and the receiving
-- multicastd packs it again.
--
-- Commands ("lua", from local services unless said otherwise):
--   NEW                 -> id   a channel owned by this node
--   DEL c                       delete c (forwarded to the owner if remote)
--   PUB c pkg                   publish a package (forwarded to the owner as a
--                               string if c is remote)
--   SUB c                       subscribe the sender; for a remote channel the
--                               first local subscriber makes this node join the
--                               owner (SUBR); error if c does not exist
--   USUB c                      unsubscribe; the last local subscriber of a
--                               remote channel makes this node leave (USUBR)
--   INFO c -> nil | { subscribers = n, nodes = { id, ... } }
-- between multicastd services:
--   SUBR c   (to the owner) -> true | false (no such channel)
--   USUBR c  (to the owner)     the sending node left c
--   DELR c   (from the owner)   c is gone: forget it
--   PUBR c source msg           a published message as a string; at the owner
--                               it is published (to every node), elsewhere it
--                               is delivered to the local subscribers only
-- Every node reaches another node's multicastd through the datacenter key
-- ("multicast", node id), which each multicastd sets when it starts.
--
-- Ordering: every message of a channel reaches the other nodes from its owner,
-- so all subscribers see one publisher's messages in the order published.
-- Node failures: a channel lives as long as its owner's multicastd.  Messages
-- published while a subscribing node is down are lost for that node; when the
-- link is back the node joins again by itself (see watch below).
local skynet = require "skynet"
local mc = require "skynet.multicast.core"
local datacenter = require "skynet.datacenter"
local harbor = require "skynet.harbor"

local harbor_id = skynet.harbor(skynet.self())

local command = {}
local NORET = {}
local channel = {}     -- c -> { [subscriber] = true }
local channel_n = {}   -- c -> number of local subscribers
local remote = {}      -- c (owned here) -> { [node id] = multicastd address }
local last_id = harbor_id
local watched = {}     -- node id -> true while a harbor.link watcher runs

-- the multicastd of node `id` (cached; dropped when that node goes down)
local node_address = setmetatable({}, {
	__index = function(t, id)
		local v = datacenter.get("multicast", id)
		if v == nil then
			error(string.format("no multicastd on node %d", id))
		end
		t[id] = v
		return v
	end,
})

local function owner(c)
	return c & 0xff
end

-- Links to other nodes are watched while they matter.  When node `node` goes
-- down: here, as an owner, it leaves every channel it had joined (a restarted
-- node joins again with its new multicastd); as a subscriber, once the node is
-- back we join its channels again (SUBR), and forget those it no longer has.
local function forget(c)
	channel[c] = nil
	channel_n[c] = nil
	remote[c] = nil
end

local watch

local function rejoin(node)
	local mine = {}
	for c in pairs(channel) do
		if owner(c) == node then
			mine[#mine + 1] = c
		end
	end
	if #mine == 0 then
		return false
	end
	harbor.connect(node)
	for _, c in ipairs(mine) do
		if channel[c] then
			local ok, exists = pcall(function()
				return skynet.call(node_address[node], "lua", "SUBR", c)
			end)
			if not (ok and exists) then
				skynet.error(string.format("multicast: channel %x is gone with node %d", c, node))
				forget(c)
			end
		end
	end
	return true
end

function watch(node)
	if watched[node] or harbor_id == 0 then
		return
	end
	watched[node] = true
	skynet.fork(function()
		harbor.link(node) -- returns when the node is down
		node_address[node] = nil
		for _, nodes in pairs(remote) do
			nodes[node] = nil
		end
		local again = rejoin(node)
		watched[node] = nil
		if again then
			watch(node)
		end
	end)
end

function command.NEW()
	repeat
		last_id = mc.nextid(last_id)
	until channel[last_id] == nil
	channel[last_id] = {}
	channel_n[last_id] = 0
	return last_id
end

function command.DEL(source, c)
	local node = owner(c)
	if node ~= harbor_id then
		skynet.send(node_address[node], "lua", "DEL", c)
		return NORET
	end
	local nodes = remote[c]
	forget(c)
	if nodes then
		for _, addr in pairs(nodes) do
			skynet.send(addr, "lua", "DELR", c)
		end
	end
	return NORET
end

function command.DELR(source, c)
	if owner(c) == skynet.harbor(source) then
		forget(c)
	end
	return NORET
end

-- hands pkg to the local subscribers of c (frees it when there are none)
local function deliver(c, source, pkg)
	local group = channel[c]
	local n = channel_n[c]
	if group == nil or n == 0 then
		mc.bind(pkg, 0)
		return
	end
	mc.bind(pkg, n)
	local msg = mc.ptr(pkg)
	for addr in pairs(group) do
		skynet.redirect(addr, source, "multicast", c, msg)
	end
end

-- the owner publishes: a string to every subscribing node, then the local
-- fan-out (which consumes pkg)
local function publish(c, source, pkg)
	local nodes = remote[c]
	if nodes and next(nodes) then
		local s = mc.string(pkg)
		for _, addr in pairs(nodes) do
			skynet.send(addr, "lua", "PUBR", c, source, s)
		end
	end
	deliver(c, source, pkg)
end

function command.PUB(source, c, pkg)
	local node = owner(c)
	if node == harbor_id then
		publish(c, source, pkg)
		return NORET
	end
	local s = mc.string(pkg)
	mc.bind(pkg, 0)
	skynet.send(node_address[node], "lua", "PUBR", c, source, s)
	return NORET
end

function command.PUBR(_, c, source, s)
	if owner(c) == harbor_id then
		if channel[c] then
			publish(c, source, mc.packremote(s))
		end
	elseif channel[c] then
		deliver(c, source, mc.packremote(s))
	end
	return NORET
end

local function join(source, c)
	local group = channel[c]
	if not group[source] then
		group[source] = true
		channel_n[c] = channel_n[c] + 1
	end
end

function command.SUB(source, c)
	local node = owner(c)
	if node ~= harbor_id and channel[c] == nil then
		local addr = node_address[node]
		local ok, exists = pcall(skynet.call, addr, "lua", "SUBR", c)
		if not ok then
			node_address[node] = nil -- maybe a restarted node: look it up again
			exists = skynet.call(node_address[node], "lua", "SUBR", c)
		end
		if not exists then
			error(string.format("invalid channel %x", c))
		end
		watch(node)
		if channel[c] == nil then -- another SUB may have run during the call
			channel[c] = {}
			channel_n[c] = 0
		end
	end
	if channel[c] == nil then
		error(string.format("invalid channel %x", c))
	end
	join(source, c)
end

function command.SUBR(source, c)
	local node = skynet.harbor(source)
	if channel[c] == nil or owner(c) ~= harbor_id or node == harbor_id then
		return false
	end
	local nodes = remote[c]
	if nodes == nil then
		nodes = {}
		remote[c] = nodes
	end
	nodes[node] = source
	watch(node)
	return true
end

function command.USUB(source, c)
	local group = channel[c]
	if group and group[source] then
		group[source] = nil
		channel_n[c] = channel_n[c] - 1
		local node = owner(c)
		if channel_n[c] == 0 and node ~= harbor_id then
			channel[c] = nil
			channel_n[c] = nil
			skynet.send(node_address[node], "lua", "USUBR", c)
		end
	end
	return NORET
end

function command.USUBR(source, c)
	local nodes = remote[c]
	if nodes and nodes[skynet.harbor(source)] == source then
		nodes[skynet.harbor(source)] = nil
	end
	return NORET
end

function command.INFO(_, c)
	if channel[c] == nil then
		return nil
	end
	local nodes = {}
	for node in pairs(remote[c] or {}) do
		nodes[#nodes + 1] = node
	end
	table.sort(nodes)
	return { subscribers = channel_n[c], nodes = nodes }
end

skynet.register_protocol {
	name = "multicast",
	id = skynet.PTYPE_MULTICAST,
	pack = function(...) return ... end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, source, cmd, ...)
		local f = assert(command[cmd], "unknown multicast command")
		local result = f(source, ...)
		if result ~= NORET then
			skynet.ret(skynet.pack(result))
		end
	end)
	datacenter.set("multicast", harbor_id, skynet.self())
end)
