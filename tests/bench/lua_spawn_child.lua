-- lua_spawn_child — an empty service that exits when asked.
local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function()
		skynet.ret()
		skynet.exit()
	end)
end)
