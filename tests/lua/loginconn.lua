-- loginconn — the client side of skynet's login protocol for a stock lua5.4
-- (client.socket and client.crypt from luaclib/client.so), shared by
-- dhlogin_client.lua, login_client.lua and tests/bench/login_bench_client.lua.
--
-- A connection is { fd, buf }: bytes read but not yet cut into an item stay
-- in buf.  Reading polls the non-blocking socket and raises once `deadline`
-- (os.time() seconds) has passed, so a silent server fails the client instead
-- of hanging it.  The caller sets package.cpath before requiring this.
local socket = require "client.socket"
local crypt = require "client.crypt"

local M = {}

-- opts.deadline: os.time() after which a read fails (default: 30 s from now);
-- opts.poll_us: sleep between two empty reads (default 1000)
function M.connect(port, opts)
	opts = opts or {}
	return {
		fd = assert(socket.connect("127.0.0.1", port)),
		buf = "",
		deadline = opts.deadline or os.time() + 30,
		poll_us = opts.poll_us or 1000,
	}
end

-- The next item that cut(buf) -> item, rest finds, or nil once the server
-- has closed the connection.
function M.read_with(c, cut)
	while true do
		local item, rest = cut(c.buf)
		if item then
			c.buf = rest
			return item
		end
		local data = socket.recv(c.fd)
		if data == "" then
			return nil
		elseif data then
			c.buf = c.buf .. data
		else
			assert(os.time() < c.deadline, "timed out waiting for the server")
			socket.usleep(c.poll_us)
		end
	end
end

function M.cut_line(buf)
	local nl = buf:find("\n", 1, true)
	if nl then
		return buf:sub(1, nl - 1), buf:sub(nl + 1)
	end
end

function M.readline(c)
	return assert(M.read_with(c, M.cut_line), "server closed the connection")
end

function M.writeline(c, s)
	socket.send(c.fd, s .. "\n")
end

-- The login server's key exchange: reads the challenge, sends a fresh client
-- key, reads the server's key.  Returns the challenge and the shared secret;
-- the caller sends the challenge's hmac next.
function M.exchange(c)
	local challenge = crypt.base64decode(M.readline(c))
	local key = crypt.randomkey()
	M.writeline(c, crypt.base64encode(crypt.dhexchange(key)))
	local secret = crypt.dhsecret(crypt.base64decode(M.readline(c)), key)
	return challenge, secret
end

-- "user@server:pass", each part in base64, as the login server wants it
function M.token(user, server, pass)
	return string.format("%s@%s:%s", crypt.base64encode(user), crypt.base64encode(server),
		crypt.base64encode(pass))
end

return M
