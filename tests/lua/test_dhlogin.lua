-- A DH login between this service and a plain lua5.4 client (dhlogin_client.lua,
-- started by dhlogin_test.py) using client.socket and client.crypt: the
-- steps of skynet's login protocol, each side computing its half. The client
-- first tries once with a wrong challenge hmac and must be refused.
--   S: base64(challenge)           C: base64(dhexchange(ckey))
--   S: base64(dhexchange(skey))    C: base64(hmac64(challenge, secret))
--   C: base64(desencode(secret, b64(user) "@" b64(server) ":" b64(password)))
--   S: "200 " base64(hmac_hash(secret, token))   (or "401 ..." on a bad hmac)
local skynet = require "skynet"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"
local T = require "testlib"

local function say(line)
	io.stdout:write(line, "\n")
	io.stdout:flush()
end

local function login(id)
	local function readline()
		local line = socket.readline(id)
		if not line then error("client closed the connection") end
		return line
	end
	local challenge = crypt.randomkey()
	socket.write(id, crypt.base64encode(challenge) .. "\n")
	local ckey = crypt.base64decode(readline())
	T.eq(#ckey, 8, "client DH key size")
	local skey = crypt.randomkey()
	socket.write(id, crypt.base64encode(crypt.dhexchange(skey)) .. "\n")
	local secret = crypt.dhsecret(ckey, skey)
	local hmac = crypt.base64decode(readline())
	if hmac ~= crypt.hmac64(challenge, secret) then
		socket.write(id, "401 Unauthorized\n")
		error("challenge hmac does not match")
	end
	local token = crypt.desdecode(secret, crypt.base64decode(readline()))
	local user, server, password = token:match("([^@]+)@([^:]+):(.+)")
	T.ok(user, "token format: " .. token)
	T.eq(crypt.base64decode(user), "alice", "user")
	T.eq(crypt.base64decode(server), "sample", "server")
	T.eq(crypt.base64decode(password), "pa:ss@word", "password")
	socket.write(id, "200 " .. crypt.base64encode(crypt.hmac_hash(secret, token)) .. "\n")
	say("SERVER SECRET " .. crypt.hexencode(secret))
end

T.main("test_dhlogin", function()
	local lid, _, port = socket.listen("127.0.0.1", 0)
	local result
	-- a refused login (bad challenge hmac) is reported and the next one served
	socket.start(lid, function(id)
		socket.start(id)
		local r = table.pack(pcall(login, id))
		socket.close(id)
		if r[1] then
			result = r
		else
			say("SERVER REFUSED " .. tostring(r[2]))
		end
	end)
	say("DHLOGIN PORT " .. port)
	T.eventually(function() return result ~= nil end, "a client login", 3000)
	socket.close(lid)
	T.ok(result[1], "login: " .. tostring(result[2]))
end)
