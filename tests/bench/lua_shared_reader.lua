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
		local t
		if mode == "sharetable" then
			t = require("skynet.sharetable").query "items"
		elseif mode == "sharedata" then
			t = require("skynet.sharedata").query "items"
		else
			t = skynet.call(".shared_copy", "lua")
		end
		local sum = 0
		for i = 1, 100 do
			local r = t[(i * 397) % records + 1]
			sum = sum + r.level + #r.name + #r.tags
		end
		keep = t
		skynet.retpack(sum)
	end)
end)
