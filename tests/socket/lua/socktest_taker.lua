-- socktest_taker: takes over a socket another service abandoned.
local skynet = require "skynet"
local socket = require "skynet.socket"

local CMD = {}

function CMD.take(id)
	local ok = socket.start(id)
	return ok == id
end

function CMD.readline(id)
	return socket.readline(id)
end

function CMD.close(id)
	socket.close(id)
	return true
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		skynet.retpack(CMD[cmd](...))
	end)
end)
