-- newservice / uniqueservice / queryservice, the launcher's commands, kill.
local skynet = require "skynet"
require "skynet.manager"
local T = require "testlib"

T.main("test_services", function()
	local s = skynet.newservice("t_args", "one", "2", "three")
	local a, b, c = skynet.call(s, "lua", "args")
	T.eq(a, "one", "arg 1") T.eq(b, "2", "arg 2 is a string") T.eq(c, "three", "arg 3")
	T.eq(skynet.call(s, "lua", "name"), "t_args", "SERVICE_NAME")

	T.eq(PRELOADED[1], "test_services", "preload ran with the service's arguments")

	-- a service in its own folder
	local folder = skynet.newservice "t_folder"
	local path, value, pre = skynet.call(folder, "lua")
	T.ok(string.match(path, "/t_folder/$"), "SERVICE_PATH is the service folder: " .. tostring(path))
	T.eq(value, "from the service folder", "require finds the service folder first")
	T.eq(pre, "t_folder", "preload in the folder service")

	-- the one-shot tool services run and exit
	T.eq(skynet.newservice("dbg", "list"), nil, "dbg list runs and exits")
	T.eq(skynet.newservice "cmemory", nil, "cmemory runs and exits")

	-- concurrent uniqueservice calls share one launch
	local handles = {}
	T.parallel(5, function(i)
		handles[i] = skynet.uniqueservice "t_slowstart"
	end)
	for i = 2, 5 do T.eq(handles[i], handles[1], "same unique service") end
	T.eq(skynet.queryservice "t_slowstart", handles[1], "queryservice")
	T.eq(skynet.call(handles[1], "lua", "hit"), 1, "launched once")

	-- a query made before the launch waits for it
	local queried
	skynet.fork(function() queried = skynet.queryservice "t_args" end)
	skynet.yield()
	T.eq(queried, nil, "query waits")
	local u = skynet.uniqueservice("t_args", "u")
	skynet.yield()
	T.eq(queried, u, "query answered after launch")

	-- global unique services (harbor 0: the same registry)
	local g = skynet.uniqueservice(true, "t_slowstart")
	T.ok(g ~= handles[1], "global is a separate instance")
	T.eq(skynet.queryservice(true, "t_slowstart"), g, "global query")

	-- a failing unique service fails every caller, the same way
	T.raises("call failed", skynet.uniqueservice, "t_error_at_start")
	T.raises("call failed", skynet.uniqueservice, "t_error_at_start")

	-- the launcher keeps the list
	local list = skynet.call(".launcher", "lua", "LIST")
	T.eq(list[skynet.address(s)], "snlua t_args one 2 three", "LIST")
	local stat = skynet.call(".launcher", "lua", "STAT", 100)
	local st = stat[skynet.address(s)]
	T.ok(type(st) == "table" and st.message >= 1, "STAT")
	local mem = skynet.call(".launcher", "lua", "MEM", 100)
	T.ok(string.find(mem[skynet.address(s)], "Kb", 1, true), "MEM")
	local gc = skynet.call(".launcher", "lua", "GC", 100)
	T.ok(gc[skynet.address(s)], "GC")
	local unknown = skynet.call(".launcher", "lua", "NOPE")
	T.eq(unknown[1], "Unknown command", "unknown launcher command")

	-- kill removes it
	local k = skynet.call(".launcher", "lua", "KILL", s)
	T.ok(k[skynet.address(s)], "KILL")
	T.eventually(function() return not pcall(skynet.call, s, "lua", "args") end, "killed service is gone")
	T.eq(skynet.call(".launcher", "lua", "LIST")[skynet.address(s)], nil, "gone from LIST")

	-- skynet.launch / skynet.kill
	local l = skynet.launch("snlua", "t_args", "x")
	T.ok(l, "launch")
	skynet.sleep(2)
	T.eq(skynet.call(l, "lua", "args"), "x", "launched service")
	skynet.kill(l)
	T.eventually(function() return not pcall(skynet.call, l, "lua", "args") end, "skynet.kill")

	-- service_mgr's list
	local sl = skynet.call("SERVICE", "lua", "LIST")
	T.eq(sl.t_slowstart, skynet.address(handles[1]), "SERVICE LIST")
	T.ok(string.find(sl.t_error_at_start, "Error", 1, true), "failure kept")
end)
