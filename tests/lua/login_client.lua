-- login_client — a game client of skynet's login flow, for a stock lua5.4
-- with client.socket and client.crypt (luaclib/client.so).  It logs in to
-- t_logind, then talks to t_gated: handshake, requests, a reconnect that
-- gets a cached response, and the refusals.  Every step is asserted; the
-- runner (login_test.py) also checks the node's side of it.
-- usage: lua5.4 login_client.lua LUACLIB_DIR LOGIN_PORT GATE_PORT
package.cpath = assert(arg[1], "luaclib dir") .. "/?.so;" .. package.cpath
package.path = arg[0]:match("(.*/)") .. "?.lua;" .. package.path
local login_port = assert(tonumber(arg[2]), "login port")
local gate_port = assert(tonumber(arg[3]), "gate port")
local socket = require "client.socket"
local crypt = require "client.crypt"

local conn = require "loginconn"

local deadline = os.time() + 30

local function connect(port)
	return conn.connect(port, { deadline = deadline })
end
local read_with, cut_line = conn.read_with, conn.cut_line

local function cut_packet(buf)
	if #buf < 2 then return end
	local n = string.unpack(">I2", buf)
	if #buf < 2 + n then return end
	return buf:sub(3, 2 + n), buf:sub(3 + n)
end

local readline = conn.readline
local function readpacket(c) return read_with(c, cut_packet) end
local writeline = conn.writeline
local function sendpacket(c, s) socket.send(c.fd, string.pack(">s2", s)) end

local function encode_token(t)
	return conn.token(t.user, t.server, t.pass)
end

-- The whole login up to the token; returns the connection and the secret.
local function start_login(token)
	local c = connect(login_port)
	local challenge, secret = conn.exchange(c)
	writeline(c, crypt.base64encode(crypt.hmac64(challenge, secret)))
	writeline(c, crypt.base64encode(crypt.desencode(secret, encode_token(token))))
	return c, secret
end

-- The whole login; returns the reply line and the secret.
local function login(token)
	local c, secret = start_login(token)
	local reply = readline(c)
	assert(read_with(c, cut_line) == nil, "the login server closes after its answer")
	socket.close(c.fd)
	return reply, secret
end

local token = { server = "sample", user = "hello", pass = "password" }

-- a client that stalls after the challenge: closed after t_logind's timeout,
-- and meanwhile the others log in
local stalled = connect(login_port)
readline(stalled)

-- a client key that is not 8 bytes of base64 is refused
do
	local c = connect(login_port)
	readline(c)
	writeline(c, "not a key!")
	local reply = readline(c)
	assert(reply == "401 Unauthorized", "bad client key: " .. reply)
	print("bad client key:", reply)
	socket.close(c.fd)
end

-- a wrong password is refused
local bad = { server = "sample", user = "hello", pass = "guess" }
local reply = login(bad)
assert(reply == "401 Unauthorized", "wrong password: " .. reply)
print("wrong password:", reply)

local reply, secret = login(token)
print("secret is", crypt.hexencode(secret))
print(reply)
assert(reply:sub(1, 4) == "200 ", "login: " .. reply)
local subid = crypt.base64decode(reply:sub(5))
print("login ok, subid=", subid)
print("CLIENT SECRET " .. crypt.hexencode(secret))

local function username_of(sid)
	return string.format("%s@%s#%s", crypt.base64encode(token.user),
		crypt.base64encode(token.server), crypt.base64encode(sid))
end

-- connect to the message server with handshake number `index`
local function gate_connect(index, opts)
	opts = opts or {}
	local c = connect(gate_port)
	local hs = string.format("%s:%d", opts.username or username_of(subid), index)
	local mac = crypt.hmac64(crypt.hashkey(hs), opts.secret or secret)
	sendpacket(c, hs .. ":" .. crypt.base64encode(mac))
	return c, readpacket(c)
end

local function send_request(c, text, session)
	socket.send(c.fd, string.pack(">I2", #text + 4) .. text .. string.pack(">I4", session))
end

local function recv_response(c)
	local p = assert(readpacket(c), "server closed instead of answering")
	local content, ok, session = string.unpack("c" .. (#p - 5) .. "B>I4", p)
	return ok ~= 0, content, session
end

local index = 1
local c, answer = gate_connect(index)
print(answer)
assert(answer == "200 OK", "handshake: " .. tostring(answer))
print("===>", "echo", 0)
send_request(c, "echo", 0)
-- leave before the answer: the server keeps it for the next connection
print("disconnect")
socket.close(c.fd)

index = index + 1
print("connect again")
c, answer = gate_connect(index)
print(answer)
assert(answer == "200 OK", "second handshake: " .. tostring(answer))
send_request(c, "fake", 0)  -- session 0 again: the cached "echo" comes back
send_request(c, "again", 1)
local ok1, text1, s1 = recv_response(c)
local ok2, text2, s2 = recv_response(c)
print("<===", ok1, text1, s1)
print("<===", ok2, text2, s2)
assert(ok1 and text1 == "echo" and s1 == 0, "cached response")
assert(ok2 and text2 == "again" and s2 == 1, "new response")

-- a failing request: ok = 0 and no content, the connection stays up
send_request(c, "boom", 7)
local okb, textb, sb = recv_response(c)
print("<===", okb, textb, sb)
assert(okb == false and textb == "" and sb == 7, "failure response")
send_request(c, "still here", 8)
local oks, texts = recv_response(c)
assert(oks and texts == "still here", "alive after a failed request")

-- a packet shorter than a session closes the connection
socket.send(c.fd, string.pack(">s2", "ab"))
assert(readpacket(c) == nil, "a packet without a session closes the connection")
socket.close(c.fd)
print("CLIENT SHORT PACKET CLOSED")

-- refusals
local function refused(want, index_, opts, what)
	local rc, ans = gate_connect(index_, opts)
	print(what .. ":", ans)
	assert(ans == want, what .. ": " .. tostring(ans))
	assert(readpacket(rc) == nil, what .. ": the server closes")
	socket.close(rc.fd)
end
refused("403 Index Expired", index, nil, "old index")
refused("401 Unauthorized", index + 1, { secret = crypt.randomkey() }, "wrong secret")
refused("404 User Not Found", index + 1, { username = username_of("999") }, "unknown user")
do
	local rc = connect(gate_port)
	sendpacket(rc, "no colons here")
	local ans = readpacket(rc)
	print("garbage:", ans)
	assert(ans == "400 Bad Request", "garbage handshake: " .. tostring(ans))
	socket.close(rc.fd)
end

-- the index was not used up by the refusals
index = index + 1
c, answer = gate_connect(index)
assert(answer == "200 OK", "third handshake: " .. tostring(answer))
send_request(c, "third", 2)
local ok3, text3 = recv_response(c)
assert(ok3 and text3 == "third", "third connection works")
socket.close(c.fd)

-- logging in again kicks the first login: its username is gone
local reply2, secret2 = login(token)
assert(reply2:sub(1, 4) == "200 ", "second login: " .. reply2)
local subid2 = crypt.base64decode(reply2:sub(5))
assert(subid2 ~= subid, "a new subid")
print("login again ok, subid=", subid2)
refused("404 User Not Found", index + 1, nil, "kicked login")
subid, secret = subid2, secret2
c, answer = gate_connect(1)
assert(answer == "200 OK", "handshake of the new login: " .. tostring(answer))
send_request(c, "new login", 0)
local ok4, text4 = recv_response(c)
assert(ok4 and text4 == "new login", "the new login's agent answers")
socket.close(c.fd)
-- a line longer than the login server's 8 KiB limit: closed without an answer
do
	local c = connect(login_port)
	readline(c)
	socket.send(c.fd, string.rep("A", 20000))
	assert(read_with(c, cut_line) == nil, "an over-long line closes the connection")
	socket.close(c.fd)
	print("CLIENT LONG LINE CLOSED")
end

-- two logins of one user at once: the second is refused while the first runs
do
	local slow = { server = "sample", user = "slowpoke", pass = "password" }
	local first = start_login(slow)
	socket.usleep(500000) -- let its login_handler start (it sleeps 3 s)
	local second = start_login(slow)
	local r2 = readline(second)
	local r1 = readline(first)
	print("concurrent login:", r1, r2)
	assert(r2 == "406 Not Acceptable", "second concurrent login: " .. r2)
	assert(r1:sub(1, 4) == "200 ", "first concurrent login: " .. r1)
	socket.close(first.fd)
	socket.close(second.fd)
end

assert(read_with(stalled, cut_line) == nil, "the stalled login is closed")
socket.close(stalled.fd)
print("CLIENT STALLED LOGIN CLOSED")
print("CLIENT LOGIN FLOW OK")
