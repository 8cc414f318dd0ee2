-- Driver of test_large.py: 64 MiB request and reply, the size limit, small
-- messages overtaking a big transfer, 10,000 small messages interleaved with
-- large ones arriving in order.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "cltest"
local check = T.check

local MiB = 1024 * 1024

T.run("large", function()
	local limit = 64 * MiB
	-- a request of 64 MiB (packed: "size", the string and their headers)
	local body = string.rep("r", limit - 16) .. ""
	local t0 = T.now()
	local n, head, tail = cluster.call("b", "@echo", "size", body)
	check(n == limit - 16 and head == "rrrrrrrr" and tail == "rrrrrrrr", "64 MiB request", n)
	skynet.error(string.format("64 MiB request: %.2f s", T.now() - t0))
	body = nil
	-- a reply of 64 MiB
	t0 = T.now()
	local r = cluster.call("b", "@echo", "big", limit - 16, "q")
	check(#r == limit - 16 and r:sub(1, 4) == "qqqq", "64 MiB reply", #r)
	skynet.error(string.format("64 MiB reply: %.2f s", T.now() - t0))
	r = nil
	collectgarbage()
	-- over the limit, both ways
	T.fails("call failed: message too large", cluster.call, "b", "@echo", "size",
		string.rep("o", limit))
	T.fails("call failed: remote error on node [b]: reply too large", cluster.call, "b", "@echo",
		"big", limit, "o")
	collectgarbage()

	-- small calls overtake a big transfer of another service on the same link
	local helper = skynet.newservice("cl_big")
	local big_done
	skynet.fork(function()
		big_done = { skynet.call(helper, "lua", "bigcall", "b", 48 * MiB) }
	end)
	skynet.sleep(2)
	local worst, count = 0, 0
	while not big_done do
		local s = skynet.now()
		check(cluster.call("b", "@echo", "echo", "ping") == "ping", "small call")
		worst = math.max(worst, skynet.now() - s)
		count = count + 1
	end
	check(big_done[1] == 48 * MiB, "big call done")
	skynet.error(string.format("during a 48 MiB transfer (%d cs): %d small calls, worst %d cs",
		big_done[2], count, worst))
	check(count >= 5, "small calls must get through while the big one is in flight", count)
	check(worst < 50, "a small call waited too long behind the big transfer", worst)

	-- 10,000 small messages from one service, every 500th one large, while
	-- other services send large ones on the same link: all in order.
	local helpers = {}
	for i = 1, 3 do helpers[i] = skynet.newservice("cl_big") end
	local bg = 0
	for i = 1, 3 do
		skynet.fork(function()
			for _ = 1, 3 do skynet.call(helpers[i], "lua", "bigcall", "b", 3 * MiB) end
			bg = bg + 1
		end)
	end
	local pad = string.rep("p", 2 * MiB)
	for i = 1, 10000 do
		if i % 500 == 0 then
			cluster.send("b", "@echo", "seq", "order", i, pad)
		elseif i % 10 == 0 then
			check(cluster.call("b", "@echo", "seq", "order", i) == i, "seq call")
		else
			cluster.send("b", "@echo", "seq", "order", i)
		end
	end
	local _, disorder, last = cluster.call("b", "@echo", "stats", "order")
	check(disorder == 0 and last == 10000, "order kept", disorder, last)
	while bg < 3 do skynet.sleep(1) end
end)
