-- launched through skynet.uniqueservice(true, "mn_unique"): answers its node id
local skynet = require "skynet"
local count = 0
skynet.start(function()
	skynet.dispatch("lua", function()
		count = count + 1
		skynet.ret(skynet.pack(skynet.harbor(skynet.self()), count))
	end)
end)
