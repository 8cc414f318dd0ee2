-- response closures, ret rules, ignoreret.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_response", function()
	local e = skynet.newservice "t_echo"

	-- a response used later, from another thread
	local t0 = skynet.now()
	local a, b = skynet.call(e, "lua", "later", 10, "x", "y")
	T.eq(a, "x", "later 1") T.eq(b, "y", "later 2")
	T.ok(skynet.now() - t0 >= 10, "answered later")

	-- response(false) fails the call
	T.raises("call failed", skynet.call, e, "lua", "fail_later", 1)

	-- used twice: the second use raises
	T.eq(skynet.call(e, "lua", "twice"), "first", "first answer wins")
	local tw = skynet.call(e, "lua", "get", "twice")
	T.eq(tw[1], true, "first use returns true")
	T.eq(tw[2], false, "second use raises")
	T.ok(string.find(tw[3], "Can't response more than once", 1, true), "second use message")

	-- ret twice: "No session"
	T.eq(skynet.call(e, "lua", "doubleret"), "once", "ret once")
	local dr = skynet.call(e, "lua", "get", "doubleret")
	T.eq(dr[1], true, "ret returns true") T.eq(dr[2], false, "second ret raises")
	T.ok(string.find(dr[3], "No session", 1, true), "No session")

	-- ret for a message sent without a session returns false
	skynet.send(e, "lua", "ret_nosession")
	local rn = skynet.call(e, "lua", "get", "ret_nosession")
	T.eq(rn[1], false, "ret without a session")

	-- a held response and release: TEST tells it's pending, then it's used
	skynet.fork(function()
		T.eq(skynet.call(e, "lua", "hold", "k1"), "released", "held call answered")
	end)
	skynet.yield()
	local pending, sent = skynet.call(e, "lua", "release", "k1", "released")
	T.eq(pending, true, "TEST before use") T.eq(sent, true, "release sent")

	-- the requester dies: the closure is dropped, using it returns false
	local requester = skynet.newservice "t_echo"
	T.eq(skynet.call(requester, "lua", "callhold", e, "k2"), true, "callhold")
	T.eventually(function() return skynet.call(e, "lua", "pending", "k2") == true end, "hold arrives")
	skynet.send(requester, "lua", "exit")
	T.eventually(function() return skynet.call(e, "lua", "pending", "k2") == false end, "requester death noticed")
	local p2, s2 = skynet.call(e, "lua", "holdstatus", "k2")
	T.eq(p2, false, "TEST after requester died")
	T.eq(s2, false, "response to a dead requester")

	-- response from this service with a custom pack
	local me = skynet.self()
	skynet.dispatch("lua", function(session, source, cmd, x)
		if cmd == "custom" then
			local r = skynet.response(function(v) return skynet.pack(v * 2) end)
			skynet.fork(function() r(true, x) end)
		elseif cmd == "ignore" then
			skynet.ignoreret()
			local s, src = skynet.context()
			T.eq(s, nil, "context session after ignoreret")
		end
	end)
	T.eq(skynet.call(e, "lua", "call", me, "custom", 21), 42, "custom pack")
	skynet.send(me, "lua", "ignore")
	skynet.yield()
	T.eq(skynet.retpack ~= nil, true, "retpack exists")
end)
