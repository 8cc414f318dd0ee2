-- skynet.console.overview — the `overview` command (a command module of
-- skynet.console.commands): everything the web dashboard shows, in one
-- answer: the `cluster` view (nodes, global names, every node's links with
-- RTT, traffic and failed calls) plus, for every node with a console, its
-- load: services, messages dispatched so far (the dashboard turns two
-- answers into a rate), the longest mailboxes with their services' names,
-- overload warnings, Lua memory, uptime.  Other nodes are asked through
-- their consoles ("lua" LOAD, answered by load_here below) with a timeout, so
-- a node that is down or slow shows as an error line, never a hang.
local skynet = require "skynet"
local json = require "skynet.json"
local metrics = require "skynet.metrics"
local memory = require "skynet.memory"
local calltimeout = require "skynet.calltimeout"
local commands = require "skynet.console.commands"

local TOPN = 5             -- mailboxes shown per node
local REMOTE_TIMEOUT = 100 -- cs

-- This node's load (also the answer to other consoles' LOAD).
local function load_here()
	local m = metrics.collect(TOPN)
	local ok, list = pcall(skynet.call, ".launcher", "lua", "LIST")
	if not ok then list = {} end
	local queues = json.array()
	for _, q in ipairs(m.queues) do
		local addr = string.format(":%08x", q.handle)
		queues[#queues + 1] = { service = addr, name = list[addr] or q.module, length = q.length }
	end
	return {
		services = m.services, messages = m.messages, overloads = m.overloads,
		queues = queues, memory = memory.total(), uptime = skynet.now() / 100,
	}
end

commands.remote("LOAD", load_here)

local C = {}

C.overview = {
	help = "overview : cluster view plus every node's load (messages, longest mailboxes), for the dashboard",
	readonly = true,
	run = function()
		local r = commands.get("cluster").run()
		r.time = skynet.time()
		local here = load_here()
		here.node = r.node
		r.load = json.array { here }
		local where = {}
		for _, n in ipairs(r.names) do where[n.name] = n.handle end
		for i = 2, #r.nodes do
			local peer = r.nodes[i]
			local entry
			local handle = where[commands.console_name(peer.id)]
			if peer.state ~= "up" and peer.state ~= "leaving" then -- a leaving node still answers
				entry = { error = "node is " .. tostring(peer.state) }
			elseif not handle then
				entry = { error = "no console on that node" }
			else
				local ok, remote = calltimeout(REMOTE_TIMEOUT, tonumber(string.sub(handle, 2), 16), "lua", "LOAD")
				if ok and type(remote) == "table" then
					entry = remote
					-- the array mark does not travel: an empty list must stay a list
					entry.queues = json.array(type(remote.queues) == "table" and remote.queues or {})
				else
					entry = { error = "no answer: " .. tostring(remote) }
				end
			end
			entry.node = peer.id
			r.load[#r.load + 1] = entry
		end
		return r
	end,
	text = function(print, r)
		commands.get("cluster").text(print, r)
		print("")
		print("[load]")
		print("node", "services", "messages", "overloads", "memory", "longest mailboxes")
		for _, l in ipairs(r.load) do
			if l.error then
				print(l.node, "# " .. l.error)
			else
				local q = {}
				for _, x in ipairs(l.queues) do q[#q + 1] = string.format("%s(%s)=%d", x.service, x.name, x.length) end
				print(l.node, l.services, l.messages, l.overloads, l.memory, table.concat(q, " "))
			end
		end
	end,
}

return C
