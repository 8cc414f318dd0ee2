-- The start service of a database test node: launches the test named by the
-- config key test_name (a service of this folder).
local skynet = require "skynet"

skynet.start(function()
	skynet.newservice(skynet.getenv "test_name")
end)
