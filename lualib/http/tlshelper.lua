-- http.tlshelper — TLS sessions (ltls.c) as the read/write functions the
-- http.* modules take.  The ciphertext moves over the node's own sockets
-- (sockethelper); OpenSSL only transforms bytes, so nothing here blocks.
--
--   tlshelper.newctx() / tlshelper.newtls("client"|"server", ctx [, hostname])
--   tlshelper.init_requestfunc(fd, tls)  -> function([hostname]): client handshake
--   tlshelper.init_responsefunc(fd, tls) -> function(): server handshake
--   tlshelper.readfunc(fd, tls)          -> read(n) / read() of plaintext
--   tlshelper.writefunc(fd, tls)         -> write(plaintext)
--   tlshelper.readallfunc(fd, tls)       -> readall(): plaintext to the end
--   tlshelper.closefunc(tls)             -> close(): frees the session
-- A failed handshake or a TLS error raises; a dropped connection raises
-- sockethelper.socket_error, as for plain sockets.
local socket = require "http.sockethelper"
local internal = require "http.internal"
local c = require "ltls.c"

local tlshelper = {}

function tlshelper.newctx()
	return c.newctx()
end

function tlshelper.newtls(method, ctx, hostname)
	return c.newtls(method, ctx, hostname)
end

local function send(write, s)
	if s and s ~= "" then
		write(s)
	end
end

function tlshelper.init_requestfunc(fd, tls)
	local read, write = socket.readfunc(fd), socket.writefunc(fd)
	return function(hostname)
		if hostname then
			tls:set_ext_host_name(hostname)
		end
		send(write, tls:handshake())
		while not tls:finished() do
			send(write, tls:handshake(read()))
		end
	end
end

function tlshelper.init_responsefunc(fd, tls)
	local read, write = socket.readfunc(fd), socket.writefunc(fd)
	return function()
		while not tls:finished() do
			send(write, tls:handshake(read()))
		end
		send(write, tls:write())
	end
end

function tlshelper.closefunc(tls)
	return function()
		tls:close()
	end
end

-- Plaintext reads.  Decrypted bytes wait in `parts` (their total in `have`)
-- until asked for, so a large read costs one concatenation.
function tlshelper.readfunc(fd, tls)
	local raw = socket.readfunc(fd)
	local parts, have = {}, 0
	-- The packet that ended the handshake may have carried application data
	-- too: what OpenSSL already holds is decrypted before waiting on the
	-- socket again.
	local function fill()
		local s = tls:read()
		if s == "" then
			s = tls:read(raw())
		end
		if s ~= "" then
			parts[#parts + 1] = s
			have = have + #s
		end
	end
	local function take(n)
		local all = table.concat(parts)
		if n == nil or n >= #all then
			parts, have = {}, 0
			return all
		end
		parts, have = { all:sub(n + 1) }, #all - n
		return all:sub(1, n)
	end
	local function read(sz)
		if sz == nil then
			while have == 0 do
				fill()
			end
			return take()
		end
		while have < sz do
			fill()
		end
		return take(sz)
	end
	internal.register_unread(read, function(s)
		table.insert(parts, 1, s)
		have = have + #s
	end)
	return read
end

function tlshelper.writefunc(fd, tls)
	local write = socket.writefunc(fd)
	return function(s)
		send(write, tls:write(s))
	end
end

function tlshelper.readallfunc(fd, tls)
	local raw = socket.readfunc(fd)
	return function()
		local out = {}
		while true do
			local ok, data = pcall(raw)
			if not ok then
				break
			end
			out[#out + 1] = tls:read(data)
		end
		return table.concat(out)
	end
end

return tlshelper
