local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "raise" then
			error("LUAC_SVC_RAISE")
		end
		skynet.ret(skynet.pack("still here"))
	end)
end)
