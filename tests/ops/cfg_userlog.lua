-- A Lua logservice (logservice = "snlua", logger = "cfg_userlog"): with
-- another logservice, `logger` is that service's argument, not a file.
local skynet = require "skynet"
require "skynet.manager"
skynet.register_protocol {
	name = "text", id = skynet.PTYPE_TEXT, unpack = skynet.tostring,
	dispatch = function(_, addr, msg) print(string.format("USERLOG [:%08x] %s", addr, msg)) end,
}
skynet.register_protocol {
	name = "SYSTEM", id = skynet.PTYPE_SYSTEM, unpack = function(...) return ... end,
	dispatch = function() end,
}
skynet.start(function() end)
