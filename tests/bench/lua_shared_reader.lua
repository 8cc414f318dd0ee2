-- A reader for lua_shared: queries the config its way and reads 100 records.
local skynet = require "skynet"
local mode, records = ...
records = tonumber(records)

local keep

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "exit" then
			skynet.exit()
			return
		end
		-- the module is loaded first: its code is a cost of the agent, not of the data
		local lib = mode ~= "copy" and require("skynet." .. mode)
		collectgarbage "collect"
		local heap0 = collectgarbage "count"
		local t
		if lib then
			t = lib.query "items"
		else
			t = skynet.call(".shared_copy", "lua")
		end
		local sum = 0
		for i = 1, 100 do
			local r = t[(i * 397) % records + 1]
			sum = sum + r.level + #r.name + #r.tags
		end
		keep = t
		collectgarbage "collect"
		skynet.retpack(collectgarbage "count" - heap0, sum)
	end)
end)
