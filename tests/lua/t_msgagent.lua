-- t_msgagent: one logged-in user of the login test.  "client" messages are
-- echoed after a short sleep; "boom" fails.
local skynet = require "skynet"

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
}

local gate, uid, subid
local CMD = {}

function CMD.login(source, u, s, secret)
	skynet.error(string.format("%s is login", u))
	gate, uid, subid = source, u, s
end

function CMD.logout()
	skynet.error(string.format("%s is logout", uid))
	if gate then
		skynet.call(gate, "lua", "logout", uid, subid)
	end
	skynet.exit()
end

function CMD.afk()
	skynet.error(string.format("AFK %s", uid))
end

skynet.start(function()
	skynet.dispatch("lua", function(_, source, command, ...)
		skynet.ret(skynet.pack(assert(CMD[command], "unknown command")(source, ...)))
	end)
	skynet.dispatch("client", function(_, _, msg)
		skynet.sleep(10)
		if msg == "boom" then
			error("the agent refuses boom")
		end
		skynet.ret(msg)
	end)
end)
