-- dhlogin_client — the client half of test_dhlogin.lua, for a stock lua5.4
-- with client.socket and client.crypt from luaclib/client.so.
-- usage: lua5.4 dhlogin_client.lua LUACLIB_DIR PORT
package.cpath = assert(arg[1], "luaclib dir") .. "/?.so;" .. package.cpath
package.path = arg[0]:match("(.*/)") .. "?.lua;" .. package.path
local port = assert(tonumber(arg[2]), "port")
local socket = require "client.socket"
local crypt = require "client.crypt"
local conn = require "loginconn"

local deadline = os.time() + 20

-- 1. a wrong challenge hmac: the server answers 401 and closes
do
	local c = conn.connect(port, { deadline = deadline })
	local challenge, secret = conn.exchange(c)
	conn.writeline(c, crypt.base64encode(crypt.hmac64(challenge, crypt.xor_str(secret, "\1"))))
	local reply = conn.readline(c)
	assert(reply == "401 Unauthorized", "refusal: " .. reply)
	socket.close(c.fd)
	print("CLIENT REFUSED OK")
end

-- 2. the real login
local c = conn.connect(port, { deadline = deadline })
local challenge, secret = conn.exchange(c)
conn.writeline(c, crypt.base64encode(crypt.hmac64(challenge, secret)))
local token = conn.token("alice", "sample", "pa:ss@word")
conn.writeline(c, crypt.base64encode(crypt.desencode(secret, token)))
local reply = conn.readline(c)
assert(reply == "200 " .. crypt.base64encode(crypt.hmac_hash(secret, token)), "server reply: " .. reply)
socket.close(c.fd)
print("CLIENT SECRET " .. crypt.hexencode(secret))
print("CLIENT LOGIN OK")
