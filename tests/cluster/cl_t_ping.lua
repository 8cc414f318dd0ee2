-- Driver of test_attack.py: after the attacks the node still serves calls.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "cltest"

T.run("ping", function()
	for i = 1, 20 do
		T.check(cluster.call("b", "@echo", "echo", i) == i, "echo after the attacks")
	end
end)
