-- call/send/rawcall/rawsend/redirect/ret/retpack/context and error paths.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_call", function()
	local e = skynet.newservice "t_echo"
	T.ok(type(e) == "number" and e > 0, "newservice returns a handle")

	local a, b, c, n = skynet.call(e, "lua", "echo", 1, nil, "x", 2.5)
	T.eq(a, 1, "first") T.eq(b, nil, "hole") T.eq(c, "x", "third") T.eq(n, 2.5, "float")
	local t = skynet.call(e, "lua", "echo", { 1, 2, { k = "v" }, [100] = true })
	T.eq(t[3].k, "v", "nested table") T.eq(t[100], true, "hash part")
	T.eq(select("#", skynet.call(e, "lua", "echo")), 0, "no values")

	-- one-way sends arrive before a later call from the same source
	T.eq(skynet.send(e, "lua", "set", "k", 5), 0, "send returns session 0")
	T.eq(skynet.call(e, "lua", "get", "k"), 5, "send delivered in order")

	-- raw forms
	local msg, sz = skynet.rawcall(e, "lua", skynet.pack("echo", "raw", 3))
	local r1, r2 = skynet.unpack(msg, sz)
	T.eq(r1, "raw", "rawcall") T.eq(r2, 3, "rawcall 2")
	skynet.rawsend(e, "lua", skynet.pack("set", "k", 6))
	T.eq(skynet.call(e, "lua", "get", "k"), 6, "rawsend")
	local smsg, ssz = skynet.rawcall(e, "lua", skynet.packstring("echo", "str"))
	T.eq(skynet.unpack(smsg, ssz), "str", "rawcall with a string payload")

	-- an error inside the handler reaches the caller; the service lives on
	T.raises("call failed", skynet.call, e, "lua", "error", "boom")
	T.eq(skynet.call(e, "lua", "echo", 7), 7, "alive after a handler error")

	-- bad addresses
	local err = T.raises("call to invalid address", skynet.call, ".nosuchname", "lua", "echo")
	T.ok(string.find(err, "skynet.lua:%d+: call to invalid address"), "position of the send: " .. err)
	T.raises("call to invalid address", skynet.rawcall, ".nosuchname", "lua", skynet.pack("echo"))
	-- a size the runtime refuses (its type bits would overflow): an error, nothing sent
	local ud = skynet.pack("big")
	T.raises("is too large", skynet.rawcall, e, "lua", ud, 1 << 57)
	T.eq(skynet.call(e, "lua", "echo", 8), 8, "alive after a refused request")
	T.eq(skynet.send(".nosuchname", "lua", "x"), nil, "send to a missing name")

	-- a protocol the callee doesn't know: PTYPE_ERROR comes back
	skynet.register_protocol { name = "custom", id = 100, pack = skynet.pack, unpack = skynet.unpack }
	T.raises("call failed", skynet.call, e, "custom", "x")

	-- context: the session and our address
	local session, source = skynet.call(e, "lua", "context")
	T.ok(math.type(session) == "integer" and session > 0, "context session")
	T.eq(source, skynet.self(), "context source")

	-- redirect: e2 forwards our request to e, e answers us directly
	local e2 = skynet.newservice "t_echo"
	T.eq(skynet.call(e2, "lua", "forward", e, "redirected"), "redirected", "redirect")

	-- many concurrent calls, each gets its own answer
	local done, results = 0, {}
	local me = coroutine.running()
	for i = 1, 200 do
		skynet.fork(function()
			results[i] = skynet.call(i % 2 == 0 and e or e2, "lua", "sleep", i % 3, i)
			done = done + 1
			if done == 200 then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
	for i = 1, 200 do T.eq(results[i], i, "concurrent call " .. i) end

	-- a call to a service that exits while it holds our request fails
	local dying = skynet.newservice "t_echo"
	local failed
	skynet.fork(function()
		failed = not pcall(skynet.call, dying, "lua", "hold")
	end)
	skynet.yield()
	skynet.send(dying, "lua", "exit")
	T.eventually(function() return failed ~= nil end, "the held call ends")
	T.eq(failed, true, "pending call to an exiting service fails")
	T.ok(not pcall(skynet.call, dying, "lua", "echo", 1), "call to a dead service fails")

	-- term: treat a live service as dead, our pending call fails at once
	local e3 = skynet.newservice "t_echo"
	local term_failed
	skynet.fork(function()
		term_failed = not pcall(skynet.call, e3, "lua", "hold")
	end)
	skynet.yield()
	skynet.term(e3)
	skynet.yield()
	T.eq(term_failed, true, "skynet.term fails pending calls")

	-- address formatting and self
	T.eq(skynet.address(skynet.self()), string.format(":%08x", skynet.self()), "address")
	T.eq(skynet.call(e, "lua", "self"), e, "callee self")
end)
