-- A service whose own protocol class asks for tracing (`trace = true` in the
-- class itself, no skynet.traceproto call): each request starts a trace, and
-- the handler answers with the tag it runs under.
local skynet = require "skynet"

skynet.register_protocol {
	name = "traced",
	id = 200,
	pack = skynet.pack,
	unpack = skynet.unpack,
	trace = true,
	dispatch = function()
		skynet.retpack(skynet.tracetag())
	end,
}

skynet.start(function() end)
