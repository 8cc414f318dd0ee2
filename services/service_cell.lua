-- service_cell — the host of a skynet.service: the first request carries the
-- dumped main function and its arguments; it runs once, as a main chunk would,
-- and the request returns when it has.
local skynet = require "skynet"

local name = ...
SERVICE_NAME = name or SERVICE_NAME

skynet.start(function()
	local started = false
	skynet.dispatch("lua", function(_, _, code, ...)
		assert(not started, "service_cell already initialised")
		started = true
		local main = assert(load(code, "=" .. tostring(SERVICE_NAME), "b"))
		-- the service installs its own handlers, usually in its skynet.start
		skynet._proto.lua.dispatch = nil
		main(...)
		skynet.ret()
	end)
end)
