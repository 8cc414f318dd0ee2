-- test_remotedebug — the target of the remote debugger test
-- (remotedebug_client.py drives `debug` on the console against it).
-- It only serves; the Python client judges.
local skynet = require "skynet"
require "skynet.manager"

greeting = "hello" -- a global the debugger reads and changes

local CMD = {}

function CMD.greet(name)
	local who = name
	local text = greeting .. " " .. who
	return text
end

function CMD.shout(name)
	local loud = string.upper(name)
	print("shouting " .. loud)
	local reply = CMD.greet(loud) -- not a tail call: `bt` shows this frame
	return reply
end

function CMD.quit()
	skynet.exit()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		skynet.retpack(f(...))
	end)
	skynet.register ".rdbtarget"
	skynet.error("remotedebug target ready " .. skynet.address(skynet.self()))
end)
