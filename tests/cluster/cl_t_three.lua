-- Driver of test_three.py, on node "a": three nodes calling each other by
-- @name, handle, .local, :hex and proxies; reload that adds a node, marks one
-- down and changes one's address while traffic flows; __nowaiting.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "cltest"
local check = T.check

T.run("three", function()
	local echo = skynet.newservice("cl_echo", "a", "a")
	cluster.register("echo", echo)
	cluster.open "a"

	for _, peer in ipairs { "b", "c" } do
		local n, tag, h = cluster.call(peer, "@echo", "whoami")
		check(n == peer, "whoami by @name", tostring(n))
		check(cluster.query(peer, "echo") == h, "query")
		check(select(1, cluster.call(peer, h, "whoami")) == peer, "by handle")
		check(select(1, cluster.call(peer, ".echo", "whoami")) == peer, "by .local")
		check(select(1, cluster.call(peer, "GECHO", "whoami")) == peer, "by harbor global name")
		local okg, errg = pcall(cluster.call, peer, "NOGLOBAL", "whoami")
		check(not okg and tostring(errg):find("call failed", 1, true), "unknown global name fails", tostring(errg))
		check(select(1, cluster.call(peer, string.format(":%08x", h), "whoami")) == peer, "by :hex")
		local x, y, z = cluster.call(peer, "@echo", "echo", 1, "two", { 3 })
		check(x == 1 and y == "two" and z[1] == 3, "echo values")
		-- three nodes calling each other: a -> peer -> other -> a
		local other = peer == "b" and "c" or "b"
		check(cluster.call(peer, "@echo", "relay", other, "whoami") == other, "relay")
		check(cluster.call(peer, "@echo", "relay", "a", "whoami") == "a", "relay back to a")
		-- the three proxy forms
		for _, p in ipairs { cluster.proxy(peer, "@echo"), cluster.proxy(peer .. "@echo"),
				cluster.proxy(peer .. ".echo") } do
			check(skynet.call(p, "lua", "whoami") == peer, "proxy call")
		end
		check(cluster.proxy(peer, "@echo") == cluster.proxy(peer .. "@echo"), "proxy cached")
		local p = cluster.proxy(peer .. "@echo")
		for i = 1, 50 do skynet.send(p, "lua", "seq", "proxy-a", i) end
		for i = 1, 50 do cluster.send(peer, "@echo", "seq", "send-a", i) end
		local _, disorder, last = skynet.call(p, "lua", "stats", "proxy-a")
		check(disorder == 0 and last == 50, "proxy send order", disorder, last)
		_, disorder, last = cluster.call(peer, "@echo", "stats", "send-a")
		check(disorder == 0 and last == 50, "cluster.send order", disorder, last)
		-- the sender
		local s = cluster.get_sender(peer)
		local r = skynet.unpack(skynet.rawcall(s, "lua", skynet.pack("req", "@echo",
			skynet.packstring("echo", "via-sender"))))
		check(r == "via-sender", "get_sender req")
		-- reasons
		T.fails("call failed: remote error on node [" .. peer .. "]: unknown name @nope",
			cluster.call, peer, "@nope", "echo")
		T.fails("call failed: remote error on node [" .. peer .. "]: service",
			cluster.call, peer, "@echo", "fail", "boom")
		T.fails("call failed: remote error on node [" .. peer .. "]: name not found",
			cluster.query, peer, "nope")
	end
	-- trace tags cross nodes, marked once
	skynet.trace("cluster")
	local tag = cluster.call("b", "@echo", "tracetag")
	check(type(tag) == "string" and tag:match "^%(.+%-b%-%d+%):", "trace tag crossed", tostring(tag))
	local tag2 = cluster.call("b", "@echo", "relay", "c", "tracetag")
	check(type(tag2) == "string" and tag2:match "^%(.+%-b%-%d+%):" and select(2, tag2:gsub("%(", "")) == 1,
		"trace tag marked only at the first hop", tostring(tag2))

	-- a node not in the config, __nowaiting false: the call waits for a reload
	local daddr = skynet.getenv "cl_d"
	local got
	skynet.fork(function() got = cluster.call("d", "@echo", "whoami") end)
	skynet.sleep(50)
	check(got == nil, "call to an unknown node must wait")
	cluster.reload { d = daddr }
	for _ = 1, 100 do
		if got then break end
		skynet.sleep(5)
	end
	check(got == "d", "waiting call completed after the reload", tostring(got))
	-- __nowaiting true: fails at once
	cluster.reload { __nowaiting = true }
	local t0 = T.now()
	T.fails("call failed: cluster node [zz] is absent", cluster.call, "zz", "@echo", "whoami")
	check(T.now() - t0 < 0.5, "absent fails fast")

	-- mark a node down, then back
	cluster.reload { c = false }
	T.fails("call failed: cluster node [c] is down", cluster.call, "c", "@echo", "whoami")
	cluster.reload { c = skynet.getenv "cl_c" }
	check(cluster.call("c", "@echo", "whoami") == "c", "c back after reload")

	-- change b's address while traffic flows: nothing fails, traffic moves to b2
	local stop, calls, errors, tags = false, 0, {}, {}
	local done = 0
	for w = 1, 4 do
		skynet.fork(function()
			while not stop do
				local ok, n, t = pcall(cluster.call, "b", "@echo", "whoami")
				calls = calls + 1
				if ok then tags[t] = (tags[t] or 0) + 1 else errors[#errors + 1] = n end
			end
			done = done + 1
		end)
	end
	skynet.sleep(30)
	cluster.reload { b = skynet.getenv "cl_b2" }
	skynet.sleep(30)
	stop = true
	while done < 4 do skynet.sleep(1) end
	check(#errors == 0, "calls failed during the address change:", errors[1])
	check((tags.b or 0) > 0 and (tags.b2 or 0) > 0, "traffic moved", tags.b, tags.b2)
	local _, t = cluster.call("b", "@echo", "whoami")
	check(t == "b2", "b now answered by b2")
	skynet.error(string.format("address change: %d calls, %d to b, %d to b2", calls, tags.b, tags.b2))
end)
