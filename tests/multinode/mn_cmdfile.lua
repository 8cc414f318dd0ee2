-- mn_cmdfile: how the multinode test services take orders from their Python
-- driver.  The driver appends one command per line ("word arg") to a file;
-- follow() polls it every 50 ms and hands each line it has not seen yet to
-- handle(cmd, arg), in order, forever.  Used by mn_reload and mn_shared
-- (required through SERVICE_PATH: those services live in this folder).
local skynet = require "skynet"

local M = {}

function M.follow(path, handle)
	local done = 0
	while true do
		local f = io.open(path)
		if f then
			local lines = {}
			for line in f:lines() do lines[#lines + 1] = line end
			f:close()
			for i = done + 1, #lines do
				handle(lines[i]:match("^(%a+)%s*(%S*)"))
			end
			done = #lines
		end
		skynet.sleep(5)
	end
end

return M
