-- A multicast client for the multinode tests (launched by mn_node.lua).
--   new            -> id of a new channel (this service keeps its object)
--   sub c          subscribe to channel c (error if it does not exist)
--   unsub          unsubscribe
--   pub tag n      publish (tag, node id, i) for i = 1..n
--   del            delete the channel
--   info c         -> multicastd's INFO for c on this node
--   got            -> list of { source, tag, node, i } received so far
local skynet = require "skynet"
local multicast = require "skynet.multicast"

local node = skynet.harbor(skynet.self())
local ch
local got = {}
local cmd = {}

local function dispatch(_, source, ...)
	got[#got + 1] = { source, ... }
end

function cmd.new()
	ch = multicast.new { dispatch = dispatch }
	return ch.channel
end

function cmd.sub(c)
	ch = ch or multicast.new { channel = c, dispatch = dispatch }
	ch:subscribe()
end

function cmd.unsub() ch:unsubscribe() end

function cmd.pub(tag, n)
	for i = 1, n do ch:publish(tag, node, i) end
end

function cmd.del() ch:delete() end

function cmd.info(c)
	return skynet.call(skynet.uniqueservice "multicastd", "lua", "INFO", c)
end

function cmd.got() return got end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, ...)
		skynet.ret(skynet.pack(assert(cmd[c], c)(...)))
	end)
end)
