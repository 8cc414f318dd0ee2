-- dhlogin_client — the client half of test_dhlogin.lua, for a stock lua5.4
-- with client.socket and client.crypt from luaclib/client.so.
-- usage: lua5.4 dhlogin_client.lua LUACLIB_DIR PORT
package.cpath = assert(arg[1], "luaclib dir") .. "/?.so;" .. package.cpath
local port = assert(tonumber(arg[2]), "port")
local socket = require "client.socket"
local crypt = require "client.crypt"

local fd
local buffer = ""
local deadline = os.time() + 20

local function readline()
	while true do
		local nl = buffer:find("\n", 1, true)
		if nl then
			local line = buffer:sub(1, nl - 1)
			buffer = buffer:sub(nl + 1)
			return line
		end
		local data = socket.recv(fd)
		if data == "" then
			error("server closed the connection")
		elseif data then
			buffer = buffer .. data
		else
			assert(os.time() < deadline, "timed out waiting for the server")
			socket.usleep(1000)
		end
	end
end

local function writeline(s)
	socket.send(fd, s .. "\n")
end

-- 1. a wrong challenge hmac: the server answers 401 and closes
fd = socket.connect("127.0.0.1", port)
do
	local challenge = crypt.base64decode(readline())
	local ckey = crypt.randomkey()
	writeline(crypt.base64encode(crypt.dhexchange(ckey)))
	local secret = crypt.dhsecret(crypt.base64decode(readline()), ckey)
	writeline(crypt.base64encode(crypt.hmac64(challenge, crypt.xor_str(secret, "\1"))))
	local reply = readline()
	assert(reply == "401 Unauthorized", "refusal: " .. reply)
	socket.close(fd)
	buffer = ""
	print("CLIENT REFUSED OK")
end

-- 2. the real login
fd = socket.connect("127.0.0.1", port)
local challenge = crypt.base64decode(readline())
local ckey = crypt.randomkey()
writeline(crypt.base64encode(crypt.dhexchange(ckey)))
local secret = crypt.dhsecret(crypt.base64decode(readline()), ckey)
writeline(crypt.base64encode(crypt.hmac64(challenge, secret)))
local token = string.format("%s@%s:%s", crypt.base64encode "alice", crypt.base64encode "sample",
	crypt.base64encode "pa:ss@word")
writeline(crypt.base64encode(crypt.desencode(secret, token)))
local reply = readline()
assert(reply == "200 " .. crypt.base64encode(crypt.hmac_hash(secret, token)), "server reply: " .. reply)
socket.close(fd)
print("CLIENT SECRET " .. crypt.hexencode(secret))
print("CLIENT LOGIN OK")
