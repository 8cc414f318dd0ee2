-- test_login: the start service of the login test (login_test.py): a login
-- server and a message server named "sample"; the runner reads their ports
-- from the log and drives them with login_client.lua.
local skynet = require "skynet"

skynet.start(function()
	local logind = skynet.newservice("t_logind")
	local gate = skynet.newservice("t_gated", logind)
	skynet.call(gate, "lua", "open", {
		address = "127.0.0.1",
		port = 0,
		maxclient = 64,
		servername = "sample",
	})
	print("LOGIN READY")
end)
