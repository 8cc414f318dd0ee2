-- httptest_server: an http.httpd server with keep-alive, driven from outside
-- by curl and raw sockets (tests/http/http_clients.py).  One coroutine per
-- connection; requests are read in a loop until the client or a bad request
-- ends the connection.  Routes:
--   /echo           method, target, selected headers and the body's length and
--                   MD5-free checksum (sum of bytes mod 2^32) as text
--   /body           the request body itself
--   /chunked?n=K    K pieces "piece i\n" sent chunked
--   /big?n=BYTES    BYTES bytes of a repeating pattern, Content-Length
--   /pid            this connection's socket id (keep-alive proof)
--   /close          answers, then closes the connection
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"
local urllib = require "http.url"

local BODY_LIMIT = 16 * 1024 * 1024

local function checksum(s)
	local sum = 0
	for i = 1, #s, 4096 do
		local piece = s:sub(i, i + 4095)
		for j = 1, #piece do
			sum = (sum + piece:byte(j)) & 0xffffffff
		end
	end
	return sum
end

local function route(id, method, target, header, body)
	local path, query = urllib.parse(target)
	local q = urllib.parse_query(query)
	if path == "/echo" then
		return 200, string.format("method=%s\ntarget=%s\npath=%s\nq=%s\nlength=%d\nsum=%d\nte=%s\n",
			method, target, path, tostring(q.x), #body, checksum(body), tostring(header["transfer-encoding"]))
	elseif path == "/body" then
		return 200, body, { ["content-type"] = "application/octet-stream" }
	elseif path == "/chunked" then
		local n, i = tonumber(q.n) or 3, 0
		return 200, function()
			i = i + 1
			if i <= n then
				return "piece " .. i .. "\n"
			end
		end
	elseif path == "/big" then
		local n = tonumber(q.n) or 0
		local unit = "0123456789abcdef"
		return 200, unit:rep(n // 16) .. unit:sub(1, n % 16)
	elseif path == "/pid" then
		return 200, tostring(id) .. "\n"
	elseif path == "/close" then
		return 200, "bye\n", { connection = "close" }
	end
	return 404, "no such page\n"
end

-- With the config key httptest_tls set, every connection is HTTPS
-- (http.tlshelper, certificate from certfile/keyfile).
local tls_ctx
local function interface(id)
	if not skynet.getenv "httptest_tls" then
		return sockethelper.readfunc(id), sockethelper.writefunc(id)
	end
	local tls = require "http.tlshelper"
	if not tls_ctx then
		tls_ctx = tls.newctx()
		tls_ctx:set_cert(skynet.getenv "certfile", skynet.getenv "keyfile")
	end
	local session = tls.newtls("server", tls_ctx)
	local ok, err = pcall(tls.init_responsefunc(id, session))
	if not ok then
		skynet.error("httptest: tls handshake failed: " .. tostring(err))
		return nil
	end
	return tls.readfunc(id, session), tls.writefunc(id, session)
end

local function serve(id, addr)
	socket.start(id)
	local read, write = interface(id)
	if not read then
		socket.close(id)
		return
	end
	while true do
		local code, target, method, header, body, version = httpd.read_request(read, BODY_LIMIT, write)
		if not code then
			if target ~= sockethelper.socket_error then
				skynet.error("httptest: read failed: " .. tostring(target))
			end
			break
		end
		if code ~= 200 then
			skynet.error(string.format("httptest: bad request from %s: %d %s", addr, code, tostring(target)))
			httpd.write_response(write, code, tostring(target) .. "\n", { connection = "close" })
			break
		end
		local status, rbody, rheader = route(id, method, target, header, body)
		local keep = httpd.keepalive(header, version) and not (rheader and rheader.connection == "close")
		if method == "HEAD" then
			-- the GET answer's length, no body (RFC 7231 §4.3.2)
			rheader = rheader or {}
			if type(rbody) == "string" then
				rheader["content-length"] = #rbody
			end
			rbody = nil
		end
		local ok, err = httpd.write_response(write, status, rbody, rheader)
		if not ok then
			skynet.error("httptest: write failed: " .. tostring(err))
			break
		end
		if not keep then
			break
		end
	end
	socket.close(id)
end

skynet.start(function()
	local listen, _, port = socket.listen("127.0.0.1", 0)
	socket.start(listen, function(id, addr)
		skynet.fork(serve, id, addr)
	end)
	skynet.error("HTTPTEST READY " .. port)
end)
