-- test_stm's reader: adopts one reference and reads on request.
local skynet = require "skynet"
local stm = require "skynet.stm"

skynet.start(function()
	local r
	skynet.dispatch("lua", function(_, _, cmd, ref)
		if cmd == "adopt" then
			r = stm.newcopy(ref)
		end
		skynet.ret(skynet.pack(r(skynet.unpack)))
	end)
end)
