-- A service that reads shared data for test_sharedata.
local skynet = require "skynet"
local sharetable = require "skynet.sharetable"
local sharedata = require "skynet.sharedata"
local datasheet = require "skynet.datasheet"
local stm = require "skynet.stm"

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

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, ...)
		skynet.retpack(cmd[c](...))
	end)
end)
