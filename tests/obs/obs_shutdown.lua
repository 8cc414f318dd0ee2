-- A stand-in for the drain service of the node (the real one, services/shutdownd.lua, is `.shutdown`,
-- answering "lua" state with "running" or "draining"): the obs probes test
-- sets its state from the console to see /ready follow it.
--   call .shutdown "set", "draining"   -> later "state" answers "draining"
--   call .shutdown "set", "silent"     -> later "state" gets no answer at all
local skynet = require "skynet"
require "skynet.manager"

local state = "running"

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, arg)
		if cmd == "state" then
			if state ~= "silent" then
				skynet.ret(skynet.pack(state))
			end
		elseif cmd == "set" then
			state = arg
			skynet.ret(skynet.pack(state))
		end
	end)
	-- the node's own drain service holds the name: retire it (its name goes
	-- with it) so that /ready asks this stand-in
	local real = skynet.localname ".shutdown"
	if real then
		skynet.kill(real)
	end
	skynet.register ".shutdown"
end)
