local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "loop" then
			while true do end
		elseif cmd == "nested" then
			local co = coroutine.create(function()
				local n = 0
				while true do n = n + 1 end
			end)
			skynet.error("LUAC_NESTED", coroutine.resume(co))
		elseif cmd == "alive" then
			skynet.ret(skynet.pack("alive"))
		end
	end)
end)
