-- A service that reads a sharemap record for test_sharemap.
local skynet = require "skynet"
local sharemap = require "skynet.sharemap"

local r
local cmd = {}

function cmd.init(typename, copy)
	r = sharemap.reader(typename, copy)
end

function cmd.peek()
	return r.level, r.gold, r.name
end

function cmd.read()
	local changed = r:update()
	return changed, r.level, r.gold, r.name
end

function cmd.write()
	return (pcall(function() r.level = 9 end))
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, ...)
		skynet.retpack(cmd[c](...))
	end)
end)
