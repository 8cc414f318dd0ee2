-- Driver of test_pending.py.  Node b holds at most 8 MiB of unfinished
-- messages per link (cluster_max_pending), node a up to `cl_own` bytes.
-- With cl_own = 8 MiB a's sender keeps within the bound: concurrent 6 MiB
-- calls take turns and all succeed.  With a larger own bound a starts two at
-- once and b must refuse: the link closes and the calls fail with the reason.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "cltest"

local MiB = 1024 * 1024

T.run("pending", function()
	local expect_ok = skynet.getenv "cl_expect" == "ok"
	local helpers, results, done = {}, {}, 0
	for i = 1, 3 do helpers[i] = skynet.newservice("cl_big") end
	for i = 1, 3 do
		skynet.fork(function()
			results[i] = { pcall(skynet.call, helpers[i], "lua", "bigcall", "b", 6 * MiB) }
			done = done + 1
		end)
	end
	while done < 3 do skynet.sleep(1) end
	for i = 1, 3 do
		if expect_ok then
			T.check(results[i][1] and results[i][2] == 6 * MiB, "6 MiB call", tostring(results[i][2]))
		end
	end
	if not expect_ok then
		local failed = 0
		for i = 1, 3 do if not results[i][1] then failed = failed + 1 end end
		T.check(failed > 0, "b must refuse more unfinished bytes than its bound")
	end
	-- either way the node is reachable again afterwards
	T.check(cluster.call("b", "@echo", "echo", "x") == "x", "b reachable")
end)
