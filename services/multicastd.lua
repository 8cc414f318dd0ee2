-- multicastd (unique) — multicast channels (spec §4.13).
--
-- channel[id] is the set of local subscribers of channel `id`.  A publisher
-- hands over one package (skynet.multicast.core); we bind it to the number of
-- subscribers, then send each the package pointer as PTYPE_MULTICAST with
-- session = channel id and source = the publisher.  Channel ids carry the
-- owner node in their low 8 bits; this single-node version owns all of them.
local skynet = require "skynet"
local mc = require "skynet.multicast.core"
local datacenter = require "skynet.datacenter"

local harbor_id = skynet.harbor(skynet.self())

local command = {}
local NORET = {}
local channel = {}
local channel_n = {}
local last_id = harbor_id

function command.NEW()
	last_id = mc.nextid(last_id)
	while channel[last_id] do
		last_id = mc.nextid(last_id)
	end
	channel[last_id] = {}
	channel_n[last_id] = 0
	return last_id
end

function command.DEL(source, c)
	channel[c] = nil
	channel_n[c] = nil
	return NORET
end

function command.PUB(source, c, pack)
	local group = channel[c]
	if group == nil or channel_n[c] == 0 then
		mc.bind(pack, 0)
		return NORET
	end
	mc.bind(pack, channel_n[c])
	local msg = mc.ptr(pack)
	for addr in pairs(group) do
		skynet.redirect(addr, source, "multicast", c, msg)
	end
	return NORET
end

function command.SUB(source, c)
	local group = assert(channel[c], "invalid channel")
	if not group[source] then
		group[source] = true
		channel_n[c] = channel_n[c] + 1
	end
end

function command.USUB(source, c)
	local group = channel[c]
	if group and group[source] then
		group[source] = nil
		channel_n[c] = channel_n[c] - 1
	end
end

skynet.register_protocol {
	name = "multicast",
	id = skynet.PTYPE_MULTICAST,
	pack = function(...) return ... end,
}

skynet.start(function()
	skynet.dispatch("lua", function(_, source, cmd, ...)
		local f = assert(command[cmd], "unknown multicast command")
		local result = f(source, ...)
		if result ~= NORET then
			skynet.ret(skynet.pack(result))
		end
	end)
	datacenter.set("multicast", harbor_id, skynet.self())
end)
