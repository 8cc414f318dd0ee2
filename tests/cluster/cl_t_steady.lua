-- Driver of test_preauth_flood.py: calls node b's echo without pause and
-- prints "CLSTEADY <ok> <failed>" every 0.2 s, for as long as it runs.
local skynet = require "skynet"
local cluster = require "skynet.cluster"

skynet.start(function()
	local ok_n, fail_n = 0, 0
	skynet.fork(function()
		while true do
			skynet.sleep(20)
			skynet.error(string.format("CLSTEADY %d %d", ok_n, fail_n))
		end
	end)
	while true do
		local ok, r = pcall(cluster.call, "b", "@echo", "echo", ok_n)
		if ok and r == ok_n then
			ok_n = ok_n + 1
		else
			fail_n = fail_n + 1
			skynet.error("CLSTEADY failure: " .. tostring(r))
		end
		skynet.sleep(1)
	end
end)
