-- skynet.shutdown — hooks a service runs when its node drains.
--
--   local shutdown = require "skynet.shutdown"
--   shutdown.hook(function(reason) save_players() end)
--
-- On SIGTERM (or the console's `shutdown`) the node's `.shutdown` service
-- (services/shutdownd.lua) closes the gates, then asks every registered hook
-- to run, all at once, and stops the node when they have all returned or
-- `shutdown_timeout` seconds have passed.  A hook runs in the service that
-- registered it, in a coroutine of its own (the debug protocol's dispatcher
-- starts one per request), so it may sleep and call services on any node.
-- A hook that raises is logged (by `.shutdown`, with its traceback) and counts
-- as finished.
--
-- shutdown.state() is "running" or "draining"; shutdown.drain(reason) starts
-- the drain from Lua (what the console's `shutdown` does).
local skynet = require "skynet"

local M = {}

local hooks = {}        -- id -> function(reason)
local next_id = 0
local installed = false

local function service()
	local addr = skynet.localname ".shutdown"
	if not addr then
		error("skynet.shutdown: this node has no .shutdown service (bootstrap starts it)", 3)
	end
	return addr
end

local function install()
	if installed then return end
	installed = true
	require("skynet.debug").reg_debugcmd("SHUTDOWN", function(id, reason)
		local f = hooks[id]
		if f == nil then
			skynet.ret(skynet.pack(false, "no hook " .. tostring(id)))
			return
		end
		local ok, err = xpcall(f, debug.traceback, reason)   -- `.shutdown` logs a failure, once
		skynet.ret(skynet.pack(ok, ok and nil or tostring(err)))
	end)
end

-- Registers fn(reason) to run when the node drains; `label` (optional) names it
-- in the log.  Returns the hook's id.
function M.hook(fn, label)
	assert(type(fn) == "function", "shutdown.hook needs a function")
	local addr = service()
	install()
	next_id = next_id + 1
	hooks[next_id] = fn
	skynet.call(addr, "lua", "hook", next_id, label and tostring(label) or nil)
	return next_id
end

function M.state()
	return skynet.call(service(), "lua", "state")
end

function M.drain(reason)
	return skynet.call(service(), "lua", "drain", reason or "requested")
end

return M
