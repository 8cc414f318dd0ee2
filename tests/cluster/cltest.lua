-- cltest — testlib for the cluster test drivers: one "CLTEST PASS|FAIL" line
-- per node; clusterlib.py judges it.  The node keeps running.
local skynet = require "skynet"
local T = require("testlib").suite("CLTEST")

function T.now()
	return skynet.now() / 100
end

return T
