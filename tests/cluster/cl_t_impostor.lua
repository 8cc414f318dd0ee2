-- Driver of test_identity.py: node "b" in our node file is really a node whose
-- credential says "c"; the call must fail, never reach it.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "cltest"

T.run("impostor", function()
	local ok, err = pcall(cluster.call, "b", "@echo", "echo", 1)
	T.check(not ok, "a call to an impostor must fail")
	skynet.error("impostor call failed: " .. tostring(err))
end)
