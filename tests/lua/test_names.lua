-- local and global names, the single-node harbor.
local skynet = require "skynet"
require "skynet.manager"
local harbor = require "skynet.harbor"
local T = require "testlib"

T.main("test_names", function()
	local e = skynet.newservice "t_echo"
	local e2 = skynet.newservice "t_echo"

	skynet.register ".tester"
	T.eq(skynet.localname ".tester", skynet.self(), "register local")
	skynet.name(".echo", e)
	T.eq(skynet.localname ".echo", e, "name local")
	T.eq(skynet.call(".echo", "lua", "echo", "hi"), "hi", "call by local name")
	skynet.name(".echo", e2) -- taken: silently ignored
	T.eq(skynet.localname ".echo", e, "first binding wins")
	T.eq(skynet.localname ".nobody", nil, "missing local name")

	-- global names through cdummy
	skynet.name("GECHO", e)
	T.eq(harbor.queryname "GECHO", e, "queryname")
	T.eq(harbor.queryname ".echo", e, "queryname of a local name")
	T.eq(skynet.call("GECHO", "lua", "echo", 5), 5, "call by global name")
	skynet.send("GECHO", "lua", "set", "g", 1)
	T.eq(skynet.call("GECHO", "lua", "get", "g"), 1, "send by global name")

	-- a query for a name not yet registered waits for it
	-- (one sender, one destination: the query reaches .cslave before anything
	-- this coroutine sends after seeing `asked`, so no sleep is needed)
	local later, asked
	skynet.fork(function() asked = true later = harbor.queryname "LATER" end)
	T.eventually(function() return asked end, "query sent")
	T.eq(skynet.call(".cslave", "lua", "LIST").LATER, nil, "LATER is not registered")
	T.eq(later, nil, "query waits")
	skynet.call(e2, "lua", "echo") -- make sure e2 is up
	skynet.name("LATER", e2)
	T.eventually(function() return later ~= nil end, "query answered")
	T.eq(later, e2, "query answered on registration")

	-- a name is withdrawn when its service exits, and can be taken again
	local temp = skynet.newservice "t_echo"
	skynet.name("TEMPNAME", temp)
	T.eq(harbor.queryname "TEMPNAME", temp, "temp name")
	skynet.send(temp, "lua", "exit")
	T.eventually(function() return not pcall(skynet.call, "TEMPNAME", "lua", "echo") end, "name gone with its service")
	T.raises("call failed", skynet.call, "TEMPNAME", "lua", "echo")
	-- cdummy notices the exit a moment later
	T.eventually(function() return skynet.call(".cslave", "lua", "LIST").TEMPNAME == nil end,
		"cdummy withdrew the name")
	local requery, reasked
	skynet.fork(function() reasked = true requery = harbor.queryname "TEMPNAME" end)
	T.eventually(function() return reasked end, "requery sent")
	T.eq(skynet.call(".cslave", "lua", "LIST").TEMPNAME, nil, "withdrawn name is unknown again")
	T.eq(requery, nil, "the requery waits")
	skynet.name("TEMPNAME", e2)
	T.eventually(function() return requery ~= nil end, "requery answered")
	T.eq(requery, e2, "name taken again")
	T.eq(skynet.call("TEMPNAME", "lua", "self"), e2, "new owner gets the messages")

	skynet.register "SELFNAME"
	T.eq(harbor.queryname "SELFNAME", skynet.self(), "register global")

	-- nobody has this name
	T.raises("call failed", skynet.call, "NOBODY", "lua", "echo")

	-- bad global names
	T.raises("global name too long", skynet.register, "A_NAME_LONGER_THAN_15")
	T.raises("a global name can't be a number", skynet.register, "1234")
	T.raises("a name can't start with ':'", skynet.register, ":abc")

	-- harbor 0: link returns at once, connect never does
	harbor.link(1)
	local connected = false
	skynet.fork(function() harbor.connect(1) connected = true end)
	skynet.sleep(5)
	T.eq(connected, false, "connect blocks in single node mode")
	local id, remote = skynet.harbor(skynet.self())
	T.eq(id, 0, "harbor id") T.eq(remote, false, "not remote")
end)
