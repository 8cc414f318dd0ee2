-- A Lua error in a message callback is logged (with a traceback) and the
-- service and the node go on.
local skynet = require "skynet"
local t = require "luac_t"

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	pack = function(s) return s end,
	unpack = skynet.tostring,
}

t.run("cberror", function()
	for _, mode in ipairs { "normal", "forward" } do
		local h = skynet.launch("snlua", "luac_rawcb", mode)
		t.ok(h, "launch raw service")
		skynet.send(h, "text", "boom")
		skynet.send(h, "text", "boomtable")
		t.eq(skynet.tostring(skynet.rawcall(h, "text", "ping")), "pong:" .. mode, "alive after errors")
	end
	local e = skynet.newservice("luac_errsvc")
	skynet.send(e, "lua", "raise")
	t.eq(skynet.call(e, "lua", "ok"), "still here", "skynet.lua service alive")
end)
