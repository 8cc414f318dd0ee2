-- node 1's start service: starts hello (global name HELLO) and stays up.
local skynet = require "skynet"

skynet.start(function()
	skynet.newservice "hello"
	skynet.error("node 1: HELLO is up")
end)
