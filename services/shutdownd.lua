-- shutdownd — the node's `.shutdown` service: the graceful drain.
--
-- Bootstrap starts it first thing, under the local name `.shutdown`.  The
-- runtime hands it SIGTERM as a text message "TERM" (core/skynet_start.c; a
-- second SIGTERM stops the node at once), the console its `shutdown` command,
-- any service `shutdown.drain(reason)`.  A drain, done once:
--   1. state becomes "draining" (`skynet.call(".shutdown", "lua", "state")`,
--      what /ready reads);
--   2. every gate stops accepting: C gates (they announce themselves with the
--      text "gate" when they listen) get "close", Lua gates (snax.gateserver
--      announces itself with "gate") get their `close` command; clients already
--      connected keep being served;
--   3. on a harbor node, the harbor tells the master and every peer that this
--      node is leaving (harbor/harbor_leave.c): they show it as "leaving",
--      keep calling it, and report it "left" (not "down") once it stops;
--   4. every hook registered with skynet.shutdown runs, concurrently, each in
--      its own service;
--   5. once all returned, or after `shutdown_timeout` seconds (default 10; one
--      log line per hook still running), the node stops with exit status 0.
--      Stopping closes every harbor and cluster link with a sealed CLOSE, so
--      peers mark the node down at once rather than after their timeout.
-- Invariant: hooks and gates are only added while "running"; a registration
-- that arrives while draining is refused (the caller's call raises).
local skynet = require "skynet"
local core = require "skynet.core"
require "skynet.manager"

local state = "running"
local hooks = {}       -- { addr, id, label }
local cgates = {}      -- addr -> true
local luagates = {}    -- addr -> true
local timeout = tonumber(skynet.getenv "shutdown_timeout" or 10) or 10

local function hook_name(h)
	return string.format("%s of %s", h.label and ("'" .. h.label .. "'") or ("#" .. h.id),
		skynet.address(h.addr))
end

local function drain(reason)
	if state ~= "running" then return end
	state = "draining"
	local t0 = skynet.now()
	local ng = 0
	for addr in pairs(cgates) do
		skynet.send(addr, "text", "close")
		ng = ng + 1
	end
	for addr in pairs(luagates) do
		skynet.fork(pcall, skynet.call, addr, "lua", "close")
		ng = ng + 1
	end
	skynet.error(string.format("shutdown: draining (%s): %d gate(s) closed, %d hook(s) to run, shutdown_timeout %gs",
		reason, ng, #hooks, timeout))
	if (tonumber(skynet.getenv "harbor") or 0) ~= 0 then
		-- before the hooks: a hook may take seconds, and peers must stop
		-- sending newcomers here from the start
		skynet.fork(function()
			local ok, err = pcall(require("skynet.harbor").leave, reason)
			if not ok then
				skynet.error("shutdown: could not tell the harbor this node is leaving: " .. tostring(err))
			end
		end)
	end
	local me = coroutine.running()
	local left = #hooks
	local done = {}
	local waiting = false
	for i, h in ipairs(hooks) do
		skynet.fork(function()
			local ok, hok, err = pcall(skynet.call, h.addr, "debug", "SHUTDOWN", h.id, reason)
			if not ok then
				skynet.error("shutdown: hook " .. hook_name(h) .. " failed: " .. tostring(hok))
			elseif not hok then
				skynet.error("shutdown: hook " .. hook_name(h) .. " raised: " .. tostring(err))
			end
			done[i] = true
			left = left - 1
			if left == 0 and waiting then skynet.wakeup(me) end
		end)
	end
	if left > 0 then
		skynet.timeout(math.floor(timeout * 100), function()
			if waiting then skynet.wakeup(me) end
		end)
		waiting = true
		skynet.wait(me)
		waiting = false
	end
	for i, h in ipairs(hooks) do
		if not done[i] then
			skynet.error(string.format("shutdown: hook %s still running after shutdown_timeout %gs; stopping without it",
				hook_name(h), timeout))
		end
	end
	skynet.error(string.format("shutdown: drained in %.2fs (%d of %d hooks finished); stopping",
		(skynet.now() - t0) / 100, #hooks - left, #hooks))
	core.command("ABORT", "0")
end

local CMD = {}

function CMD.state()
	return state
end

function CMD.hook(source, id, label)
	assert(state == "running", "the node is draining: no new shutdown hooks")
	hooks[#hooks + 1] = { addr = source, id = id, label = label }
	return true
end

function CMD.gate(source)
	if state ~= "running" then
		skynet.fork(pcall, skynet.call, source, "lua", "close")
	else
		luagates[source] = true
	end
	return true
end

function CMD.drain(_, reason)
	skynet.fork(drain, tostring(reason or "requested"))
	return state == "running" and "draining" or state
end

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
	dispatch = function(_, source, msg)
		if msg == "TERM" then
			skynet.fork(drain, "SIGTERM")
		elseif msg == "gate" then
			if state ~= "running" then
				skynet.send(source, "text", "close")
			else
				cgates[source] = true
			end
		else
			skynet.error("shutdown: unknown text command " .. msg)
		end
	end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, source, cmd, ...)
		local f = CMD[cmd]
		if not f then error("shutdown: unknown command " .. tostring(cmd)) end
		if cmd == "state" then
			skynet.ret(skynet.pack(f()))
		else
			skynet.ret(skynet.pack(f(source, ...)))
		end
	end)
	skynet.register ".shutdown"
end)
