-- node 2's start service: waits for HELLO (on node 1), calls it, prints the
-- answer and stops this node (exit status 0).
local skynet = require "skynet"
require "skynet.manager"
local harbor = require "skynet.harbor"

skynet.start(function()
	harbor.queryname "HELLO"    -- returns once the name exists somewhere
	local answer = skynet.call("HELLO", "lua", "greet", "node 2")
	skynet.error("node 2 got: " .. answer)
	skynet.abort()
end)
