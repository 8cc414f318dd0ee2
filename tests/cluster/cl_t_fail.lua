-- Driver of test_fail.py: calls pending on a node that is killed (-9) or
-- frozen (SIGSTOP) fail within cluster_timeout; traffic resumes by itself when
-- the node is back.  The harness acts when it reads the CLTEST STEP lines.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "cltest"
local check = T.check

local timeout = tonumber(skynet.getenv "cluster_timeout")

local function pending_calls(round, why)
	local n, failed, errs = 5, 0, {}
	local t0
	for _ = 1, n do
		skynet.fork(function()
			local ok, err = pcall(cluster.call, "b", "@echo", "sleep", 6000)
			if not ok then
				errs[#errs + 1] = { err, T.now() - t0 }
			end
			failed = failed + 1
		end)
	end
	skynet.sleep(20)
	t0 = T.now()
	skynet.error("CLTEST STEP " .. round)
	while failed < n and T.now() - t0 < timeout + 5 do skynet.sleep(5) end
	check(#errs == n, "every pending call must fail", #errs)
	for _, e in ipairs(errs) do
		check(e[1]:sub(1, 30) == "call failed: cluster node [b] ", "reason", e[1])
		check(e[1]:find(why, 1, true), "reason says why", e[1], why)
		check(e[2] <= timeout + 1.5, "failed in time", e[2])
	end
	skynet.error(string.format("round %s: %d calls failed after %.2f s: %s", round, #errs,
		errs[n][2], errs[n][1]))
end

local function resumes(round)
	skynet.error("CLTEST STEP back" .. round)
	local t0 = T.now()
	local ok, who
	repeat
		ok, who = pcall(cluster.call, "b", "@echo", "whoami")
		if not ok then skynet.sleep(20) end
	until ok or T.now() - t0 > 20
	check(ok and who == "b", "traffic resumed without a reload", tostring(who))
	skynet.error(string.format("round %s: traffic back after %.2f s", round, T.now() - t0))
end

T.run("fail", function()
	check(cluster.call("b", "@echo", "whoami") == "b", "b up")
	pending_calls("kill", "is down")
	resumes("kill")
	pending_calls("stop", "heartbeat timeout")
	resumes("stop")
	-- the node is back for good: many calls work
	for i = 1, 100 do check(cluster.call("b", "@echo", "echo", i) == i, "echo") end
end)
