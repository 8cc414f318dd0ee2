-- hello: a complete minimal service.  It answers the "lua" protocol: a call
-- ("greet", name) returns a string; any other command raises, and the caller's
-- skynet.call raises with it.  It registers the global name HELLO, which every
-- node of the harbor can call.
local skynet = require "skynet"
require "skynet.manager"   -- skynet.register, skynet.name, skynet.abort

local CMD = {}

function CMD.greet(name)
	return string.format("hello %s, from node %d", name, skynet.harbor(skynet.self()))
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], "unknown command")
		skynet.ret(skynet.pack(f(...)))
	end)
	skynet.register "HELLO"
end)
