-- login_bench_client — N complete logins in a row against the benchmark's
-- login server (lua5.4 + luaclib/client.so); prints "LOGINS <n>".
-- usage: lua5.4 login_bench_client.lua LUACLIB_DIR PORT N USER
package.cpath = arg[1] .. "/?.so;" .. package.cpath
local port, n, user = tonumber(arg[2]), tonumber(arg[3]), arg[4]
local socket = require "client.socket"
local crypt = require "client.crypt"

local fd, buf

local function readline()
	while true do
		local nl = buf:find("\n", 1, true)
		if nl then
			local line = buf:sub(1, nl - 1)
			buf = buf:sub(nl + 1)
			return line
		end
		local data = socket.recv(fd)
		assert(data ~= "", "server closed")
		if data then
			buf = buf .. data
		else
			socket.usleep(50)
		end
	end
end

local function writeline(s)
	socket.send(fd, s .. "\n")
end

local token = string.format("%s@%s:%s", crypt.base64encode(user),
	crypt.base64encode "bench", crypt.base64encode "password")
for _ = 1, n do
	fd, buf = assert(socket.connect("127.0.0.1", port)), ""
	local challenge = crypt.base64decode(readline())
	local key = crypt.randomkey()
	writeline(crypt.base64encode(crypt.dhexchange(key)))
	local secret = crypt.dhsecret(crypt.base64decode(readline()), key)
	-- the hmac and token lines in one write: two small writes in a row would
	-- wait for a delayed ACK (Nagle), 40 ms a login, and measure only that
	writeline(crypt.base64encode(crypt.hmac64(challenge, secret)) .. "\n"
		.. crypt.base64encode(crypt.desencode(secret, token)))
	local reply = readline()
	assert(reply:sub(1, 4) == "200 ", reply)
	socket.close(fd)
end
print("LOGINS " .. n)
