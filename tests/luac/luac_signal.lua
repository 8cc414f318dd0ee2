-- SIGNAL 0 breaks an endless loop in a service; SIGNAL 1 logs its memory.
local skynet = require "skynet"
local c = require "skynet.core"
local t = require "luac_t"

t.run("signal", function()
	local h = skynet.newservice("luac_endless")
	local addr = skynet.address(h)
	skynet.send(h, "lua", "loop")
	skynet.sleep(20)
	c.command("SIGNAL", addr .. " 1")
	c.command("SIGNAL", addr) -- default signal 0
	t.eq(skynet.call(h, "lua", "alive"), "alive", "alive after signal 0")
	-- the loop inside a nested coroutine: the trap follows the resume
	skynet.send(h, "lua", "nested")
	skynet.sleep(20)
	c.command("SIGNAL", addr .. " 0")
	t.eq(skynet.call(h, "lua", "alive"), "alive", "alive after nested signal 0")
	-- a signal 0 with nothing looping fires once in the next Lua code run, then the service goes on
	t.eq(skynet.call(h, "lua", "alive"), "alive", "still alive")
end)
