-- A service on bare skynet.core (no skynet.lua): its callback raises on
-- "boom" / "boomtable" and answers "ping". Arg: "normal" or "forward" mode.
local c = require "skynet.core"
local mode = ...
local forward = mode == "forward"

c.callback(function(_, msg, sz, session, source)
	local text = c.tostring(msg, sz)
	if forward then
		c.trash(msg, sz) -- forward mode: the message is ours to free
	end
	if text == "boom" then
		error("LUAC_BOOM raised in " .. mode)
	elseif text == "boomtable" then
		error({})
	elseif text == "ping" then
		c.send(source, 1, session, "pong:" .. mode)
	end
end, forward)
