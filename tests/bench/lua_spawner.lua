-- lua_spawner — one of several spawners of lua_spawn4/lua_churn: starts
-- services when asked and returns their handles, or spawns and stops them.
local skynet = require "skynet"
local B = require "lua_benchlib"

local CMD = {}

-- spawn `count` idle children, `width` launches in flight; returns the handles
function CMD.spawn(count, width)
	local handles = {}
	B.parallel(width, function(k)
		for i = k, count, width do
			handles[i] = skynet.newservice "lua_spawn_child"
		end
	end)
	return handles
end

-- spawn and stop `count` children, `width` at a time
function CMD.churn(count, width)
	B.parallel(width, function(k)
		for _ = k, count, width do
			skynet.call(skynet.newservice "lua_spawn_child", "lua", "exit")
		end
	end)
	return count
end

function CMD.exit(handles, width)
	B.parallel(width, function(k)
		for i = k, #handles, width do
			skynet.call(handles[i], "lua", "exit")
		end
	end)
	return true
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		skynet.retpack(CMD[cmd](...))
	end)
end)
