-- t_memlimit — 8 MiB Lua memory limit, set in the main chunk.
local skynet = require "skynet"
skynet.memlimit(8 * 1024 * 1024)
local set_once = skynet.memlimit == nil
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, mib)
		if cmd == "once" then return skynet.retpack(set_once) end
		local ok, err = pcall(function()
			local t = {}
			for i = 1, mib * 16 do
				t[i] = string.rep(string.char(i % 256), 64 * 1024 - 32)
			end
			return #t
		end)
		collectgarbage "collect"
		skynet.retpack(ok, tostring(err), collectgarbage "count")
	end)
end)
