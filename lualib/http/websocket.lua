-- http.websocket — WebSocket (RFC 6455) server and client on the node's
-- sockets.  Server:
--   websocket.accept(id, handle, protocol, addr [, options]) -> true | false, err
--     runs the handshake, then reads until the connection ends, calling
--     handle.connect(id), handle.handshake(id, header, url),
--     handle.message(id, data, "text"|"binary"), handle.ping(id, payload),
--     handle.pong(id, payload), handle.close(id, code, reason),
--     handle.error(id, err), handle.warning(id, kib) — each optional.
--     options.upgrade = { method, url, header }: the request was already
--       read (by httpd); options.protocols = { "a", "b" }: subprotocols this
--       server speaks, the first one the client offers is chosen (default
--       { "chat" }; none chosen when nothing matches); options.header: extra
--       fields of the 101 answer; options.max_frame_size.
--   protocol "wss": TLS with the certificate of the config keys certfile and
--     keyfile (default ./server-cert.pem, ./server-key.pem).
-- Client:
--   websocket.connect(url [, header [, timeout [, options]]]) -> id
--     url "ws://host[:port][/path]" or "wss://..." (websocket.cafile, an
--     extension, makes it check the server's certificate); header: extra request fields (give
--     "Sec-WebSocket-Protocol" to offer subprotocols); timeout in cs for the
--     connect and the handshake.  Raises on failure.
-- Both:
--   websocket.read(id) -> data, "text"|"binary" | false, reason, code
--     (answers pings; a close or a broken peer gives false)
--   websocket.write(id, data [, "text"|"binary" [, masking_key [, fragment]]])
--     fragment: send the message as frames of at most that many bytes
--   websocket.ping(id [, payload]), websocket.pong(id [, payload])
--   websocket.close(id [, code [, reason]])
--   websocket.is_close(id), websocket.addrinfo(id), websocket.real_ip(id),
--   websocket.subprotocol(id)
--   websocket.MAX_FRAME_SIZE  largest frame or message read (256 KiB);
--     a bigger one closes the connection with code 1009.
-- A protocol violation by the peer closes the connection with the close code
-- RFC 6455 §7.4.1 names (1002, 1007, 1009) and a log line; it never raises
-- into the node.  Client frames are masked with a fresh random key each;
-- the server checks that client frames are masked and never masks its own.
local skynet = require "skynet"
local socket = require "skynet.socket"
local internal = require "http.internal"
local sockethelper = require "http.sockethelper"
local httpd = require "http.httpd"
local wscore = require "http.wscore"
local dns = require "skynet.dns"

local M = {}

M.MAX_FRAME_SIZE = 256 * 1024
local GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
local mask = wscore.mask
local socket_error = sockethelper.socket_error

local pool = {}  -- socket id -> connection

local function try_handle(ws, name, ...)
	local f = ws.handle and ws.handle[name]
	if f then
		f(ws.id, ...)
	end
end

-- TLS contexts, made on first use: the server's certificate comes from the
-- config keys certfile / keyfile (default ./server-cert.pem, ./server-key.pem,
-- as skynet); websocket.cafile (extension) makes the client check servers.
local server_ctx, client_ctx

local function tls_ctx(mode)
	local tls = require "http.tlshelper"
	if mode == "server" then
		if not server_ctx then
			local ctx = tls.newctx()
			ctx:set_cert(skynet.getenv "certfile" or "./server-cert.pem",
				skynet.getenv "keyfile" or "./server-key.pem")
			server_ctx = ctx
		end
		return server_ctx
	end
	if not client_ctx then
		client_ctx = tls.newctx()
		if M.cafile then
			client_ctx:set_verify(M.cafile)
		end
	end
	return client_ctx
end

local function new_ws(id, mode, handle, protocol, hostname)
	local ws = {
		id = id,
		mode = mode,
		handle = handle,
		st = {},
		maxsize = M.MAX_FRAME_SIZE,
	}
	if protocol == "wss" then
		local tls = require "http.tlshelper"
		local session = tls.newtls(mode, tls_ctx(mode), hostname)
		ws.tls = session
		ws.read = tls.readfunc(id, session)
		ws.write = tls.writefunc(id, session)
		ws.init = mode == "server" and tls.init_responsefunc(id, session) or tls.init_requestfunc(id, session)
	else
		ws.read = sockethelper.readfunc(id)
		ws.write = function(s)
			if not socket.write(id, s) then
				error(socket_error("write failed fd = " .. id))
			end
		end
	end
	pool[id] = ws
	return ws
end

local function drop(ws)
	if pool[ws.id] == ws then
		pool[ws.id] = nil
	end
	ws.closed = true
	socket.close(ws.id)
end

local function send(ws, op, payload, fin)
	local key = ws.mode == "client" and wscore.randomkey(4) or nil
	ws.write(internal.ws_frame(op, payload or "", fin, key, mask))
end

local function close_payload(code, reason)
	if not code then
		return ""
	end
	return string.pack(">I2", code) .. (reason or "")
end

local function has_token(value, token)
	if type(value) == "table" then
		value = table.concat(value, ",")
	end
	for t in (value or ""):gmatch("[^%s,]+") do
		if t:lower() == token then
			return true
		end
	end
	return false
end

---------------------------------------------------------------- server

-- Returns nil, header, url when the handshake succeeded, or status, reason.
local function server_handshake(ws, options)
	local method, url, header
	local up = options and options.upgrade
	if up then
		method, url, header = up.method, up.url, up.header
	else
		local lines = {}
		local rest = internal.recvheader(ws.read, lines, "")
		if not rest then
			return 413, "header too large"
		end
		internal.unread(ws.read, rest)
		local version
		method, url, version = internal.parse_request_line(lines[1] or "")
		if not method then
			return 400, "bad request line"
		end
		if version < 1.1 then
			return 505, "HTTP/1.1 needed"
		end
		header = internal.parseheader(lines, 2, {})
		if not header then
			return 400, "bad header field"
		end
	end
	if method ~= "GET" then
		return 405, "a WebSocket opens with GET"
	end
	if not has_token(header.upgrade, "websocket") then
		return 426, "Upgrade: websocket needed"
	end
	if not has_token(header.connection, "upgrade") then
		return 400, "Connection: Upgrade needed"
	end
	if type(header.host) ~= "string" then
		return 400, "one Host field needed"
	end
	local key = header["sec-websocket-key"]
	local raw = type(key) == "string" and wscore.base64decode(key)
	if not raw or #raw ~= 16 then
		return 400, "bad Sec-WebSocket-Key"
	end
	if header["sec-websocket-version"] ~= "13" then
		return 426, "Sec-WebSocket-Version 13 needed", { ["Sec-WebSocket-Version"] = "13" }
	end
	local chosen
	local offered = header["sec-websocket-protocol"]
	if offered then
		local mine = options and options.protocols or { "chat" }
		for p in (type(offered) == "table" and table.concat(offered, ",") or offered):gmatch("[^%s,]+") do
			for _, m in ipairs(mine) do
				if p == m then
					chosen = p
					break
				end
			end
			if chosen then
				break
			end
		end
	end
	ws.subprotocol = chosen
	ws.real_ip = header["x-real-ip"]
	local out = {
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
		"Sec-WebSocket-Accept: ", wscore.base64encode(wscore.sha1(key .. GUID)), "\r\n",
	}
	if chosen then
		out[#out + 1] = "Sec-WebSocket-Protocol: " .. chosen .. "\r\n"
	end
	if options and options.header then
		for k, v in pairs(options.header) do
			out[#out + 1] = string.format("%s: %s\r\n", k, v)
		end
	end
	out[#out + 1] = "\r\n"
	ws.write(table.concat(out))
	return nil, header, url
end

local function violation(ws, err)
	skynet.error(string.format("websocket %d %s: %s", ws.id, tostring(ws.addr), tostring(err)))
	pcall(send, ws, "close", close_payload(err.code, err.reason:sub(1, 100)))
	drop(ws)
end

local function serve(ws, options)
	try_handle(ws, "connect")
	local status, header, url = server_handshake(ws, options)
	if status then
		skynet.error(string.format("websocket %d %s: handshake refused: %d %s", ws.id, tostring(ws.addr), status, header))
		httpd.write_response(ws.write, status, header .. "\n", url)
		drop(ws)
		try_handle(ws, "close")
		return
	end
	try_handle(ws, "handshake", header, url)
	local read, st, maxsize = ws.read, ws.st, ws.maxsize
	while not ws.closed do
		local kind, a, b = internal.ws_read_message(st, read, true, maxsize, mask)
		if kind == "text" or kind == "binary" then
			try_handle(ws, "message", a, kind)
		elseif kind == "ping" then
			if not ws.closed then
				send(ws, "pong", a)
			end
			try_handle(ws, "ping", a)
		elseif kind == "pong" then
			try_handle(ws, "pong", a)
		else
			-- close: answer with the same code (RFC 6455 §5.5.1), then hang up
			if not ws.closed then
				pcall(send, ws, "close", close_payload(b))
				drop(ws)
			end
			try_handle(ws, "close", b, a)
			return
		end
	end
	try_handle(ws, "close")
end

function M.accept(id, handle, protocol, addr, options)
	protocol = protocol or "ws"
	if protocol ~= "ws" and protocol ~= "wss" then
		socket.close(id)
		return false, "websocket: protocol is ws or wss, not " .. tostring(protocol)
	end
	if not (options and options.upgrade) then
		local ok, err = socket.start(id)
		if not ok then
			return false, err
		end
	end
	local ok_new, ws = pcall(new_ws, id, "server", handle, protocol)
	if not ok_new then
		socket.close(id)
		return false, ws
	end
	ws.addr = addr
	if options and options.max_frame_size then
		ws.maxsize = options.max_frame_size
	end
	if handle and handle.warning then
		socket.warning(id, function(_, kib) handle.warning(id, kib) end)
	end
	if ws.init then
		-- the TLS handshake: a failure is the peer's, logged in one line
		local ok, err = pcall(ws.init)
		if not ok then
			drop(ws)
			local msg = tostring(err)
			skynet.error(string.format("websocket %d %s: %s", id, tostring(addr), msg))
			return false, msg
		end
	end
	local ok, err = xpcall(serve, function(e)
		if e == socket_error or getmetatable(e) == internal.WSERR then
			return e
		end
		return debug.traceback(tostring(e), 2)
	end, ws, options)
	if ok then
		return true
	end
	if getmetatable(err) == internal.WSERR then
		violation(ws, err)
		pcall(try_handle, ws, "error", tostring(err))
		return true
	end
	local closed_by_us = ws.closed
	drop(ws)
	if err == socket_error then
		if closed_by_us then
			try_handle(ws, "close")
		else
			try_handle(ws, "error", tostring(err))
		end
		return true
	end
	return false, err
end

---------------------------------------------------------------- client

function M.connect(url, header, timeout, options)
	local scheme, host, path = url:match("^(%a+)://([^/]+)(.*)$")
	scheme = scheme and scheme:lower()
	if scheme ~= "ws" and scheme ~= "wss" then
		error("websocket: not a ws:// url: " .. tostring(url))
	end
	local name, port = host:match("^%[(.-)%]:?(%d*)$")
	if not name then
		name, port = host:match("^([^:]+):?(%d*)$")
	end
	if not name then
		error("websocket: bad host " .. host)
	end
	port = tonumber(port) or (scheme == "wss" and 443 or 80)
	path = path == "" and "/" or path
	local addr = name
	if not name:match("^%d+%.%d+%.%d+%.%d+$") and not name:find(":", 1, true) then
		addr = assert(dns.resolve(name))
	end
	local id = sockethelper.connect(addr, port, timeout)
	local ok_new, ws = pcall(new_ws, id, "client", nil, scheme, addr ~= name and name or nil)
	if not ok_new then
		socket.close(id)
		error(ws, 0)
	end
	ws.addr = host
	if options and options.max_frame_size then
		ws.maxsize = options.max_frame_size
	end
	local done = false
	if timeout then
		skynet.timeout(timeout, function()
			if not done then
				socket.shutdown(id)
			end
		end)
	end
	local key = wscore.base64encode(wscore.randomkey(16))
	local fields = {
		["Upgrade"] = "websocket",
		["Connection"] = "Upgrade",
		["Sec-WebSocket-Key"] = key,
		["Sec-WebSocket-Version"] = "13",
	}
	local offered
	for k, v in pairs(header or {}) do
		fields[k] = v
		if k:lower() == "sec-websocket-protocol" then
			offered = v
		end
	end
	local ok, err = pcall(function()
		if ws.init then
			ws.init(addr ~= name and name or nil)  -- the TLS handshake
		end
		local code, rest, h = internal.request(ws, "GET", host, path, nil, fields)
		if code ~= 101 then
			error(string.format("websocket: handshake answered %d", code))
		end
		if not has_token(h.upgrade, "websocket") or not has_token(h.connection, "upgrade") then
			error("websocket: handshake answer without Upgrade: websocket")
		end
		if h["sec-websocket-accept"] ~= wscore.base64encode(wscore.sha1(key .. GUID)) then
			error("websocket: bad Sec-WebSocket-Accept")
		end
		local chosen = h["sec-websocket-protocol"]
		if chosen then
			if not offered or not has_token(offered, chosen:lower()) then
				error("websocket: server chose a subprotocol not offered: " .. tostring(chosen))
			end
			ws.subprotocol = chosen
		end
		internal.unread(ws.read, rest)
	end)
	done = true
	if not ok then
		drop(ws)
		error(err == socket_error and tostring(err) or err, 0)
	end
	return id
end

---------------------------------------------------------------- both

local function get(id)
	local ws = pool[id]
	if not ws then
		error("websocket: no open connection " .. tostring(id))
	end
	return ws
end

function M.read(id)
	local ws = get(id)
	while true do
		local ok, kind, a, b = pcall(internal.ws_read_message, ws.st, ws.read, ws.mode == "server", ws.maxsize, mask)
		if not ok then
			if getmetatable(kind) == internal.WSERR then
				violation(ws, kind)
				return false, kind.reason, kind.code
			end
			local by_us = ws.closed
			drop(ws)
			if kind == socket_error then
				return false, by_us and "closed" or tostring(kind)
			end
			error(kind)
		end
		if kind == "text" or kind == "binary" then
			return a, kind
		elseif kind == "ping" then
			pcall(send, ws, "pong", a)
		elseif kind == "close" then
			if not ws.closed then
				pcall(send, ws, "close", close_payload(b))
				drop(ws)
			end
			return false, a, b
		end
	end
end

function M.write(id, data, fmt, masking_key, fragment)
	local ws = get(id)
	fmt = fmt or "text"
	if fmt ~= "text" and fmt ~= "binary" then
		error("websocket: write format is text or binary, not " .. tostring(fmt))
	end
	local key
	if ws.mode == "client" then
		key = masking_key and string.pack(">I4", masking_key) or wscore.randomkey(4)
	end
	if not fragment or #data <= fragment then
		ws.write(internal.ws_frame(fmt, data, true, key, mask))
		return
	end
	local out, op, n = {}, fmt, #data
	for i = 1, n, fragment do
		local last = i + fragment > n
		if ws.mode == "client" and not masking_key then
			key = wscore.randomkey(4)
		end
		out[#out + 1] = internal.ws_frame(op, data:sub(i, i + fragment - 1), last, key, mask)
		op = "frame"
	end
	ws.write(table.concat(out))
end

function M.ping(id, payload)
	send(get(id), "ping", payload)
end

function M.pong(id, payload)
	send(get(id), "pong", payload)
end

function M.close(id, code, reason)
	local ws = pool[id]
	if not ws then
		return
	end
	local ok, err = pcall(send, ws, "close", close_payload(code, reason))
	drop(ws)
	if not ok and err ~= socket_error then
		skynet.error(tostring(err))
	end
end

function M.is_close(id)
	return pool[id] == nil
end

function M.addrinfo(id)
	return get(id).addr
end

function M.real_ip(id)
	return get(id).real_ip
end

function M.subprotocol(id)
	return get(id).subprotocol
end

return M
