-- skynet.stm between two services: a reader sees the first version, then
-- only versions it has not read, and reads false for good once the writer
-- is gone (its service exited), as skynet's stm does.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_stm", function()
	local reader = skynet.newservice("t_stm_reader")
	local writer = skynet.newservice("t_stm_writer")
	local ref = skynet.call(writer, "lua", "copy")
	T.same({ skynet.call(reader, "lua", "adopt", ref) }, { true, 1, "first" }, "first read")
	T.same({ skynet.call(reader, "lua", "read") }, { false }, "nothing new")
	skynet.call(writer, "lua", "publish", 2, "second")
	T.same({ skynet.call(reader, "lua", "read") }, { true, 2, "second" }, "new version")
	skynet.call(writer, "lua", "publish", 3, "third")
	skynet.call(writer, "lua", "quit")
	T.eventually(function()
		return skynet.call(reader, "lua", "read") == false
	end, "reader sees the writer gone")
	T.same({ skynet.call(reader, "lua", "read") }, { false }, "still nothing once the writer is gone")
end)
