-- test_stm's writer: publishes on request and exits on "quit".
local skynet = require "skynet"
local stm = require "skynet.stm"

skynet.start(function()
	local obj = stm.new(skynet.pack(1, "first"))
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "copy" then
			skynet.ret(skynet.pack(stm.copy(obj)))
		elseif cmd == "publish" then
			obj(skynet.pack(...))
			skynet.ret()
		elseif cmd == "quit" then
			skynet.ret()
			skynet.exit()
		end
	end)
end)
