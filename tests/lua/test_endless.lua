-- An endless loop: the monitor flags it, SIGNAL 0 breaks it, the service lives.
local skynet = require "skynet"
local core = require "skynet.core"
local T = require "testlib"

T.main("test_endless", function()
	local e = skynet.newservice "t_echo"
	local result
	skynet.fork(function() result = table.pack(pcall(skynet.call, e, "lua", "loop")) end)
	-- the monitor checks every 5 s: after 11 s the loop is surely flagged
	skynet.sleep(1100)
	T.eq(result, nil, "still looping")
	core.command("SIGNAL", skynet.address(e))
	skynet.sleep(50)
	T.ok(result, "the loop was broken")
	T.eq(result[1], false, "the caller got an error")
	T.eq(skynet.call(e, "lua", "echo", "alive"), "alive", "service survives the signal")
	T.eq(skynet.call(e, "lua", "endless"), true, "skynet.endless() reports the loop")
	T.eq(skynet.call(e, "lua", "endless"), false, "the flag is read-and-clear")
	T.eq(skynet.endless(), false, "we never looped")
end)
