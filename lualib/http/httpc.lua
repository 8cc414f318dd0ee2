-- http.httpc — an HTTP/1.1 client on the node's sockets.
--
--   httpc.request(method, host, url [, recvheader [, header [, content]]]) -> status, body
--   httpc.get(host, url [, recvheader [, header [, content]]])             -> status, body
--   httpc.post(host, url, form [, recvheader])  form: a table sent urlencoded
--   httpc.head(host, url [, recvheader [, header [, content]]])            -> status
--   httpc.request_stream(method, host, url, ...) -> a stream: .status, .header,
--       stream:padding() / stream() for the next piece of the body ("" at the
--       end), stream:close(); usable as a <close> variable
--   httpc.timeout      centiseconds for connect + the whole exchange (nil: none)
--   httpc.keepalive    true: keep finished connections (per host, at most
--                      httpc.max_idle each) for the next request
--   httpc.dns(server, port)  ask this DNS server (default: /etc/resolv.conf)
--   httpc.cafile       extension: https checks certificates (and names)
--                      against this CA file; nil accepts any (as skynet)
-- host: "name", "name:port", "ip:port", "[v6]:port", with "http://" or
-- "https://" or without.  Names are resolved by skynet.dns (hosts file, then UDP), never
-- by a blocking call.  recvheader (a table) receives the response fields,
-- names lower-case.  content: a string, or a function giving the body in
-- pieces (sent chunked).  Errors (connect, timeout, malformed answer) raise.
-- Redirects are the caller's: a 3xx comes back as it is.
local skynet = require "skynet"
local socket = require "http.sockethelper"
local internal = require "http.internal"
local dns = require "skynet.dns"

local httpc = {}

httpc.max_idle = 4

function httpc.dns(server, port)
	dns.server(server, port)
end

local default_port = { http = 80, https = 443 }

local function parse_host(s)
	local protocol, rest = s:match("^(%a[%w+.-]*)://(.*)$")
	if protocol then
		protocol = protocol:lower()
	else
		protocol, rest = "http", s
	end
	local port_of = default_port[protocol]
	if not port_of then
		error("httpc: unsupported protocol " .. protocol)
	end
	rest = rest:gsub("/.*$", "")
	local name, port = rest:match("^%[(.-)%]:?(%d*)$")
	if not name then
		if select(2, rest:gsub(":", "")) > 1 then
			error("httpc: a bare IPv6 address needs brackets: [" .. rest .. "]")
		end
		name, port = rest:match("^([^:]+):?(%d*)$")
	end
	if not name then
		error("httpc: bad host " .. s)
	end
	port = port ~= "" and tonumber(port) or port_of
	return protocol, name, port, rest
end

-- One TLS context for every https request of this service (made on first
-- use).  httpc.cafile (extension): check servers' certificates and names
-- against these CAs; without it, as in skynet, any certificate is accepted.
local client_ctx, client_ctx_cafile

local function tls_ctx()
	if not client_ctx or client_ctx_cafile ~= httpc.cafile then
		local tls = require "http.tlshelper"
		client_ctx = tls.newctx()
		if httpc.cafile then
			client_ctx:set_verify(httpc.cafile)
		end
		client_ctx_cafile = httpc.cafile
	end
	return client_ctx
end

local idle = {}  -- "ip:port" -> { fd, ... } of kept connections

local function take_idle(key)
	local list = idle[key]
	while list and #list > 0 do
		local c = table.remove(list)
		if not c.dead then
			return c
		end
	end
end

local function connect(host, timeout)
	local protocol, name, port, hostheader = parse_host(host)
	local addr = name
	if not name:match("^%d+%.%d+%.%d+%.%d+$") and not name:find(":", 1, true) then
		local ip = dns.resolve(name)
		if not ip then
			error("httpc: bad host name " .. name)
		end
		addr = ip
	end
	local key = protocol .. "://" .. addr .. "#" .. port
	local c = httpc.keepalive and take_idle(key)
	local fresh = false
	if not c then
		local fd = socket.connect(addr, port, timeout)
		c = { fd = fd, key = key }
		if protocol == "https" then
			local tls = require "http.tlshelper"
			local named = addr ~= name and name or nil
			c.tls = tls.newtls("client", tls_ctx(), named)
			c.init = tls.init_requestfunc(fd, c.tls)
			c.read = tls.readfunc(fd, c.tls)
			c.write = tls.writefunc(fd, c.tls)
			c.readall = tls.readallfunc(fd, c.tls)
		else
			c.read = socket.readfunc(fd)
			c.write = socket.writefunc(fd)
			c.readall = function() return socket.readall(fd) end
		end
		-- an idle connection the server closes must not linger in the list
		require("skynet.socket").onclose(fd, function() c.dead = true end)
		fresh = true
	end
	c.finish = nil
	c.round = (c.round or 0) + 1
	if timeout then
		local round = c.round
		skynet.timeout(timeout, function()
			if c.round == round and not c.finish then
				c.timedout = true
				socket.shutdown(c.fd)
			end
		end)
	end
	if fresh and c.init then
		local ok, err = pcall(c.init)
		if not ok then
			c.finish = true
			socket.close(c.fd)
			c.tls:close()
			if c.timedout then
				error("httpc: timeout")
			end
			error(err, 0)
		end
	end
	return c, hostheader
end

local function release(c, reuse)
	c.finish = true
	if reuse and httpc.keepalive and not c.dead then
		local list = idle[c.key] or {}
		idle[c.key] = list
		if #list < httpc.max_idle then
			list[#list + 1] = c
			return
		end
	end
	c.dead = true
	socket.close(c.fd)
	if c.tls then
		c.tls:close()
	end
end

local function fail(c, err)
	if c.timedout then
		error("httpc: timeout")
	end
	error(err, 0)
end

function httpc.request(method, host, url, recvheader, header, content)
	local c, hostheader = connect(host, httpc.timeout)
	local ok, code, body, rheader = pcall(internal.request, c, method, hostheader, url, recvheader, header, content)
	if not ok then
		release(c, false)
		fail(c, code)
	end
	local ok2, whole, rest = pcall(internal.response, c, code, body, rheader, method)
	if not ok2 then
		release(c, false)
		fail(c, whole)
	end
	release(c, rest == "" and internal.keepalive(rheader, 1.1))
	return code, whole
end

function httpc.head(host, url, recvheader, header, content)
	local c, hostheader = connect(host, httpc.timeout)
	local ok, code, rest, rheader = pcall(internal.request, c, "HEAD", hostheader, url, recvheader, header, content)
	if not ok then
		release(c, false)
		fail(c, code)
	end
	release(c, rest == "" and internal.keepalive(rheader, 1.1))
	return code
end

function httpc.request_stream(method, host, url, recvheader, header, content)
	local c, hostheader = connect(host, httpc.timeout)
	local ok, code, body, rheader = pcall(internal.request, c, method, hostheader, url, recvheader, header, content)
	c.finish = true  -- the body is read at the caller's pace: no timeout from here
	if not ok then
		release(c, false)
		fail(c, code)
	end
	local ok2, stream = pcall(internal.response_stream, c, code, body, rheader, method)
	if not ok2 then
		release(c, false)
		error(stream, 0)
	end
	stream._onclose = function() release(c, false) end
	return stream
end

function httpc.get(...)
	return httpc.request("GET", ...)
end

local function escape(s)
	return (tostring(s):gsub("[^%w_]", function(ch)
		return string.format("%%%02X", ch:byte())
	end))
end

function httpc.post(host, url, form, recvheader)
	local header = { ["content-type"] = "application/x-www-form-urlencoded" }
	local body = {}
	for k, v in pairs(form) do
		body[#body + 1] = escape(k) .. "=" .. escape(v)
	end
	return httpc.request("POST", host, url, recvheader, header, table.concat(body, "&"))
end

return httpc
