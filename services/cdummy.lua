-- cdummy (`.cslave` when harbor = 0) — the single-node stand-in for the harbor
-- controller.  It owns the table of global names of this
-- node; the core learns each one through the HARBORNAME command so that
-- skynet.send("NAME", ...) reaches it.  A name is withdrawn when its service
-- exits (the core drops its binding with the handle; we watch with the debug
-- LINK command, which fails when the service is gone), so it can be taken
-- again.  There are no other nodes: LINK returns at once and CONNECT never does.
local skynet = require "skynet"
local core = require "skynet.core"
require "skynet.manager"

local globalname = {}   -- name -> handle
local queryname = {}    -- name -> response closures waiting for it
local never = {}        -- CONNECT callers: answered only if we exit
local harbor = {}

-- A send to a retired handle fails at once: that is our liveness test.
local function alive(handle)
	return skynet.send(handle, "debug", "PING") ~= nil
end

local function watch(name, handle)
	-- fails when the service exits, or at once if it can't speak "debug"
	pcall(skynet.call, handle, "debug", "LINK")
	for _ = 1, 20 do
		if not alive(handle) then
			if globalname[name] == handle then
				globalname[name] = nil
			end
			return
		end
		skynet.sleep(5)
	end
	-- still alive: a service without the debug protocol; keep the name
end

function harbor.REGISTER(name, handle)
	assert(globalname[name] == nil, "global name " .. name .. " already registered")
	globalname[name] = handle
	core.command("HARBORNAME", name .. " " .. skynet.address(handle))
	skynet.fork(watch, name, handle)
	local waiting = queryname[name]
	if waiting then
		queryname[name] = nil
		for _, resp in ipairs(waiting) do
			resp(true, handle)
		end
	end
end

function harbor.QUERYNAME(name)
	if string.byte(name) == 46 then -- '.': a local name
		skynet.ret(skynet.pack(skynet.localname(name)))
		return
	end
	local handle = globalname[name]
	if handle then
		skynet.ret(skynet.pack(handle))
		return
	end
	local waiting = queryname[name]
	if waiting == nil then
		waiting = {}
		queryname[name] = waiting
	end
	waiting[#waiting + 1] = skynet.response()
end

-- Every global name of this node, for the console's `names` and metrics.
function harbor.LIST()
	skynet.ret(skynet.pack(globalname))
end

function harbor.LINK(id)
	skynet.ret()
end

function harbor.CONNECT(id)
	skynet.error("Can't connect to other harbor in single node mode")
	never[#never + 1] = skynet.response()
end

function harbor.LINKMASTER()
	skynet.error("No master in single node mode")
	never[#never + 1] = skynet.response()
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, command, ...)
		local f = assert(harbor[command], "unknown harbor command")
		f(...)
	end)
end)
