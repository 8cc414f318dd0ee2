-- t_logind: the login server of the login test, as a skynet game would write
-- one: tokens are base64(user)@base64(server):base64(password), one password
-- for everyone; a second login of an online user kicks the first.
local login = require "snax.loginserver"
local crypt = require "skynet.crypt"
local skynet = require "skynet"

local server = {
	host = "127.0.0.1",
	port = 0,
	multilogin = false,
	name = "login_master",
	instance = tonumber(skynet.getenv "login_instances") or 4,
	timeout = 2, -- seconds; the client checks that a stalled login is closed
}

local gates = {}  -- server name -> gate address
local online = {} -- uid -> { gate, subid, server }

function server.auth_handler(token)
	local user, srv, password = string.match(token, "^([^@]+)@([^:]+):(.+)$")
	assert(user, "malformed token")
	user, srv, password = crypt.base64decode(user), crypt.base64decode(srv), crypt.base64decode(password)
	assert(password == "password", "wrong password")
	return srv, user
end

function server.login_handler(srv, uid, secret)
	print(string.format("%s@%s is login, secret is %s", uid, srv, crypt.hexencode(secret)))
	local gate = assert(gates[srv], "unknown server")
	if uid == "slowpoke" then
		skynet.sleep(300) -- the test logs in a second time meanwhile (406)
	end
	local last = online[uid]
	if last then
		skynet.call(last.gate, "lua", "kick", uid, last.subid)
	end
	assert(online[uid] == nil, "user still online after the kick")
	local subid = tostring(skynet.call(gate, "lua", "login", uid, secret))
	online[uid] = { gate = gate, subid = subid, server = srv }
	return subid
end

local CMD = {}

function CMD.register_gate(srv, address)
	gates[srv] = address
end

function CMD.logout(uid, subid)
	local u = online[uid]
	if u then
		print(string.format("%s@%s is logout", uid, u.server))
		online[uid] = nil
	end
end

function server.command_handler(command, ...)
	return assert(CMD[command], "unknown command")(...)
end

login(server)
