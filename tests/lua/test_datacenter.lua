-- skynet.datacenter: get/set/wait on paths.
local skynet = require "skynet"
local datacenter = require "skynet.datacenter"
local T = require "testlib"

T.main("test_datacenter", function()
	T.eq(datacenter.get("nothing"), nil, "missing key")
	T.eq(datacenter.set("a", 1), nil, "first set returns nil")
	T.eq(datacenter.set("a", 2), 1, "set returns the old value")
	T.eq(datacenter.get("a"), 2, "get")
	datacenter.set("x", "y", "z", "deep")
	T.eq(datacenter.get("x", "y", "z"), "deep", "deep get")
	T.same(datacenter.get("x", "y"), { z = "deep" }, "subtree")
	T.eq(datacenter.get("x", "nope", "z"), nil, "missing middle")

	-- wait returns at once when the value exists
	T.eq(datacenter.wait("a"), 2, "wait on an existing value")

	-- wait blocks until set; every waiter gets the value
	local got = {}
	for i = 1, 3 do
		skynet.fork(function() got[i] = datacenter.wait("later", "k") end)
	end
	skynet.sleep(2)
	T.eq(got[1], nil, "waiting")
	datacenter.set("later", "k", "v")
	T.eventually(function() return got[3] ~= nil end, "waiters answered")
	T.same(got, { "v", "v", "v" }, "waiters answered")

	-- a waiter on a leaf fails when a value is written below it
	local failed
	skynet.fork(function() failed = not pcall(datacenter.wait, "leaf") end)
	skynet.sleep(2)
	datacenter.set("leaf", "below", 1)
	T.eventually(function() return failed ~= nil end, "leaf waiter ends")
	T.eq(failed, true, "leaf waiter fails")

	-- a table value answers waiters deeper in it
	local deep
	skynet.fork(function() deep = datacenter.wait("tree", "branch") end)
	skynet.sleep(2)
	datacenter.set("tree", { branch = "leafvalue" })
	T.eventually(function() return deep ~= nil end, "deep waiter answered")
	T.eq(deep, "leafvalue", "deep waiter answered by a table")
end)
