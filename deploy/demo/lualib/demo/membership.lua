-- demo.membership — keeps one role of a node known to the matchmaker (the global name MATCH),
-- shared by the game role (demo_game) and the gate role (demo_watchdog).
--
--   local membership = require "demo.membership"
--   local m = membership.start {
--     node = "game1", role = "game",      -- as given to MATCH's node_up
--     rooms = function() return {...} end, -- the room list node_up carries ({} for a gate)
--     stats = function(interval) return { players =, msgs =, remote =, interval = } end,
--   }
--   m.joined                               -- true while MATCH knows this role
--
-- Once a second the role reports its stats (`report`); while it is not joined it first
-- announces itself (`node_up`).  MATCH unreachable, or answering that it does not know the node
-- (it restarted, or took the node for dead), makes the role announce itself again: the
-- matchmaker's view heals by itself, with no order between node starts.  stats() is called
-- every second whether joined or not, so its counters always cover one interval.
local skynet = require "skynet"

local membership = {}

local PERIOD = 100 -- cs between two reports

function membership.start(opts)
	local m = { joined = false }
	local node, role = opts.node, opts.role
	local self_harbor = skynet.harbor(skynet.self())
	local label = role == "game" and node or (node .. " (" .. role .. ")")
	skynet.fork(function()
		local last = skynet.now()
		while true do
			if not m.joined then
				local ok, err = pcall(skynet.call, "MATCH", "lua", "node_up", node, role, self_harbor, opts.rooms())
				if ok then
					m.joined = true
					skynet.error("node " .. label .. " joined the matchmaker")
				else
					skynet.error("node " .. node .. " cannot reach MATCH yet: " .. tostring(err):match("^[^\n]*"))
				end
			end
			skynet.sleep(PERIOD)
			local now = skynet.now()
			local stats = opts.stats(now - last)
			last = now
			if m.joined then
				local ok, known = pcall(skynet.call, "MATCH", "lua", "report", node, stats)
				if not ok or not known then
					m.joined = false
					skynet.error("node " .. label .. " lost the matchmaker" .. (ok and " (it forgot us)" or ""))
				end
			end
		end
	end)
	return m
end

return membership
