-- demo_login — the login check, global name LOGIN.  check(user, token) -> player id or
-- false, "badtoken".  The token a client must show is proto.token(demo_secret, user); see
-- demo/proto.lua for what it is and is not.
local skynet = require "skynet"
require "skynet.manager"
local proto = require "demo.proto"

local secret = assert(skynet.getenv "demo_secret", "config key demo_secret is not set")
local logins, refused = 0, 0

local CMD = {}

function CMD.check(user, token)
	if not proto.valid_name(user) or token ~= proto.token(secret, user) then
		refused = refused + 1
		return false, "badtoken"
	end
	logins = logins + 1
	return user .. "#" .. logins
end

function CMD.stats()
	return logins, refused
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], "LOGIN: unknown command")
		skynet.retpack(f(...))
	end)
	skynet.register "LOGIN"
end)
