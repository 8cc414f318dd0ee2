-- t_args — answers `args` with the arguments it was launched with.
local skynet = require "skynet"
local args = table.pack(...)
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "args" then
			skynet.retpack(table.unpack(args, 1, args.n))
		elseif cmd == "name" then
			skynet.retpack(SERVICE_NAME)
		end
	end)
end)
