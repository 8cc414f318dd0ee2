-- sp_protoloader: compiles the demo's schemas once and puts them in
-- sprotoloader slots 1 (c2s) and 2 (s2c) for every agent.
local skynet = require "skynet"
local sprotoloader = require "sprotoloader"
local proto = require "sp_proto"

skynet.start(function()
	sprotoloader.save(proto.c2s, 1)
	sprotoloader.save(proto.s2c, 2)
end)
