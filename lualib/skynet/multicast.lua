-- skynet.multicast — publish/subscribe channels.
--   local ch = multicast.new { channel = id?, pack = ?, unpack = ?, dispatch = f }
--   ch:publish(...)  ch:subscribe()  ch:unsubscribe()  ch:delete()
-- dispatch is called as f(ch, source, ...) for every message published on a
-- subscribed channel.  Channels work across harbor nodes: any node may
-- publish, subscribe to, or delete a channel; its owner (low 8 bits of the id)
-- relays every message (services/multicastd.lua).  subscribe() raises an
-- error if the channel does not exist.
local skynet = require "skynet"
local mc = require "skynet.multicast.core"

local multicastd
local multicast = {}
local dispatch = setmetatable({}, { __mode = "kv" }) -- channel id -> channel object

local chan = {}
local chan_meta = {
	__index = chan,
	__gc = function(self)
		self:unsubscribe()
	end,
	__tostring = function(self)
		return string.format("[Multicast:%x]", self.channel)
	end,
}

local function default_conf(conf)
	conf = conf or {}
	conf.pack = conf.pack or skynet.pack
	conf.unpack = conf.unpack or skynet.unpack
	return conf
end

function multicast.new(conf)
	assert(multicastd, "call multicast.new after skynet.start")
	conf = default_conf(conf)
	local id = conf.channel
	if id == nil then
		id = skynet.call(multicastd, "lua", "NEW")
	end
	local self = setmetatable({
		channel = id,
		__pack = conf.pack,
		__unpack = conf.unpack,
		__dispatch = conf.dispatch,
	}, chan_meta)
	return self
end

function chan:delete()
	local c = assert(self.channel)
	skynet.send(multicastd, "lua", "DEL", c)
	self.channel = nil
	self.__subscribe = nil
end

function chan:publish(...)
	local c = assert(self.channel)
	skynet.send(multicastd, "lua", "PUB", c, mc.pack(self.__pack(...)))
end

function chan:subscribe()
	local c = assert(self.channel)
	if self.__subscribe then
		return
	end
	skynet.call(multicastd, "lua", "SUB", c)
	self.__subscribe = true
	assert(dispatch[c] == nil)
	dispatch[c] = self
end

function chan:unsubscribe()
	if not self.__subscribe then
		return
	end
	local c = assert(self.channel)
	skynet.send(multicastd, "lua", "USUB", c)
	self.__subscribe = nil
	dispatch[c] = nil
end

local function dispatch_subscribe(channel, source, pack, msg, sz)
	-- the session field carried the channel id: there is nobody to answer
	skynet.ignoreret()
	local self = dispatch[channel]
	if not self then
		mc.close(pack)
		error(string.format("Unknown channel %x", channel))
	end
	if self.__subscribe then
		local ok, err = pcall(self.__dispatch, self, source, self.__unpack(msg, sz))
		mc.close(pack)
		assert(ok, err)
	else
		-- unsubscribed while the message was in flight
		mc.close(pack)
	end
end

local function init()
	multicastd = skynet.uniqueservice "multicastd"
	skynet.register_protocol {
		name = "multicast",
		id = skynet.PTYPE_MULTICAST,
		unpack = mc.unpack,
		dispatch = dispatch_subscribe,
	}
end

skynet.init(init)

return multicast
