-- login_bench_client — N complete logins in a row against the benchmark's
-- login server (lua5.4 + luaclib/client.so); prints "LOGINS <n>".
-- usage: lua5.4 login_bench_client.lua LUACLIB_DIR PORT N USER
package.cpath = arg[1] .. "/?.so;" .. package.cpath
package.path = arg[0]:match("(.*/)") .. "../lua/?.lua;" .. package.path
local port, n, user = tonumber(arg[2]), tonumber(arg[3]), arg[4]
local socket = require "client.socket"
local crypt = require "client.crypt"
local conn = require "loginconn"

local token = conn.token(user, "bench", "password")
for _ = 1, n do
	-- a short poll: the benchmark measures the server, not this client's sleeps
	local c = conn.connect(port, { poll_us = 50, deadline = os.time() + 60 })
	local challenge, secret = conn.exchange(c)
	-- the hmac and token lines in one write: two small writes in a row would
	-- wait for a delayed ACK (Nagle), 40 ms a login, and measure only that
	conn.writeline(c, crypt.base64encode(crypt.hmac64(challenge, secret)) .. "\n"
		.. crypt.base64encode(crypt.desencode(secret, token)))
	local reply = conn.readline(c)
	assert(reply:sub(1, 4) == "200 ", reply)
	socket.close(c.fd)
end
print("LOGINS " .. n)
