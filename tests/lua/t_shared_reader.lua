-- A service that reads shared data for test_sharedata and test_sharemap.
local skynet = require "skynet"
local sharetable = require "skynet.sharetable"
local sharedata = require "skynet.sharedata"
local datasheet = require "skynet.datasheet"
local stm = require "skynet.stm"
local sharemap = require "skynet.sharemap"

local reader
local cmd = {}

function cmd.sharetable(name, key)
	return sharetable.query(name)[key]
end

function cmd.sharedata(name, key)
	return sharedata.query(name)[key]
end

function cmd.datasheet(name, key)
	return datasheet.query(name)[key]
end

function cmd.stm(copy)
	reader = stm.newcopy(copy)
	return reader(skynet.unpack)
end

function cmd.stmread()
	return reader(skynet.unpack)
end

-- sharemap (test_sharemap): a reader of a "player" record
local smap
function cmd.smap_init(typename, copy)
	smap = sharemap.reader(typename, copy)
end

function cmd.smap_peek()
	return smap.level, smap.gold, smap.name
end

function cmd.smap_read()
	local changed = smap:update()
	return changed, smap.level, smap.gold, smap.name
end

function cmd.smap_write()
	return (pcall(function() smap.level = 9 end))
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, ...)
		skynet.retpack(cmd[c](...))
	end)
end)
