-- t_subscriber — subscribes to a multicast channel and records what it gets.
local skynet = require "skynet"
local multicast = require "skynet.multicast"

local got = {}
local ch

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, id)
		if cmd == "sub" then
			ch = multicast.new {
				channel = id,
				dispatch = function(channel, source, ...)
					got[#got + 1] = { source, ... }
				end,
			}
			ch:subscribe()
			skynet.retpack(true)
		elseif cmd == "unsub" then
			ch:unsubscribe()
			skynet.retpack(true)
		elseif cmd == "got" then
			skynet.retpack(got)
		end
	end)
end)
