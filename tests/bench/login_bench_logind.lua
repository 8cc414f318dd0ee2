-- login_bench_logind: a login server (snax.loginserver) for the login
-- benchmark: every token with the right password gets in, and the login
-- handler hands out a subid at once (no game server behind it), so the
-- figure is the login server's own: DH exchange, hmac, DES token, answer.
local login = require "snax.loginserver"
local crypt = require "skynet.crypt"
local skynet = require "skynet"

local server = {
	host = "127.0.0.1",
	port = 0,
	multilogin = false,
	name = "bench_login",
	instance = tonumber(skynet.getenv "login_instances") or 4,
}

function server.auth_handler(token)
	local user, srv, password = string.match(token, "^([^@]+)@([^:]+):(.+)$")
	assert(crypt.base64decode(password) == "password", "wrong password")
	return crypt.base64decode(srv), crypt.base64decode(user)
end

local subid = 0
function server.login_handler()
	subid = subid + 1
	return subid
end

function server.command_handler()
end

login(server)
