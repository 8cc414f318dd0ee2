-- http.internal — the one small HTTP/1.1 (RFC 7230) and WebSocket frame
-- (RFC 6455) codec shared by http.httpd, http.httpc, http.websocket and the
-- node's own HTTP endpoints (services/metrics.lua).
--
-- Everything reads through a `readbytes` function: readbytes(n) returns exactly
-- n bytes, readbytes() whatever is available (at least one byte); both raise
-- when the peer is gone.  Nothing here touches skynet, so the parsers can be
-- driven by a plain Lua state (tests/fuzz/fuzz_http.c) on arbitrary bytes.
--
-- Limits are fields of the module so a caller may tighten them:
--   MAX_HEADER  bytes of start line + header fields (and of a trailer)
--   MAX_LINE    bytes of a chunk-size line (size + extensions)
local string = string
local table = table
local find, sub, match, lower, format = string.find, string.sub, string.match, string.lower, string.format
local concat = table.concat
local tonumber, type, pairs, ipairs, setmetatable, error = tonumber, type, pairs, ipairs, setmetatable, error

local M = {}

M.MAX_HEADER = 64 * 1024
M.MAX_LINE = 1024

-- Leftover bytes read past the end of one message belong to the next one
-- (a pipelined request).  A read function that can take them back registers
-- its `unread` here (sockethelper.readfunc does); others lose them, as a
-- connection that closes after one exchange does not care.
local unread_hooks = setmetatable({}, { __mode = "k" })

function M.register_unread(readbytes, hook)
	unread_hooks[readbytes] = hook
end

function M.unread(readbytes, rest)
	if rest and rest ~= "" then
		local hook = unread_hooks[readbytes]
		if hook then
			hook(rest)
			return true
		end
		return false
	end
	return true
end

---------------------------------------------------------------- header block

-- Reads up to and including the empty line that ends a header block.  `pre`
-- holds bytes already read.  Fills `lines` with the block's lines (CRLF
-- removed) and returns the bytes after the block, or nil when the block
-- exceeds MAX_HEADER.  An empty block (the text starts with CRLF) gives no
-- lines: that is how a chunked body ends without trailers.
function M.recvheader(readbytes, lines, pre)
	local limit = M.MAX_HEADER
	local buf = pre or ""
	while #buf < 2 do
		buf = buf .. readbytes()
	end
	if sub(buf, 1, 2) == "\r\n" then
		return sub(buf, 3)
	end
	-- Pieces are kept apart until the end is seen, so a header trickled in
	-- byte by byte costs linear time; only the seam (the last 3 bytes of the
	-- previous piece) is searched again.
	local parts, n, total = { buf }, 1, #buf
	local tail = ""
	local all, stop
	while true do
		local probe = tail .. parts[n]
		local s = find(probe, "\r\n\r\n", 1, true)
		if s then
			all = n == 1 and parts[1] or concat(parts)
			stop = total - #probe + s  -- where in `all` the block's CR LF CR LF starts
			break
		end
		if total > limit then
			return nil
		end
		tail = sub(probe, -3)
		n = n + 1
		parts[n] = readbytes()
		total = total + #parts[n]
	end
	if stop - 1 > limit then
		return nil
	end
	local i = 1
	while i < stop do
		local e = find(all, "\r\n", i, true)
		lines[#lines + 1] = sub(all, i, e - 1)
		i = e + 2
	end
	return sub(all, stop + 4)
end

-- field-name = token (RFC 7230 §3.2.6); the value may hold HTAB, SP, visible
-- ASCII and obs-text, nothing else (no CR, LF, NUL or other controls).
local FIELD = "^([%w!#%$%%&'%*%+%-%.%^_`|~]+):[ \t]*(.-)[ \t]*$"
local BADVALUE = "[%z\1-\8\10-\31\127]"

-- Adds lines[from..] as fields to `header` (names lower-cased; a repeated
-- name collects its values in a list).  Returns header, or nil for a line
-- that is not a field (obsolete line folding included, RFC 7230 §3.2.4).
function M.parseheader(lines, from, header)
	for i = from, #lines do
		local name, value = match(lines[i], FIELD)
		if not name or find(value, BADVALUE) then
			return nil
		end
		name = lower(name)
		local old = header[name]
		if old == nil then
			header[name] = value
		elseif type(old) == "table" then
			old[#old + 1] = value
		else
			header[name] = { old, value }
		end
	end
	return header
end

---------------------------------------------------------------- buffered reader

-- A cursor over bytes already read plus readbytes for more; used by the
-- chunked decoder so that many small chunks in one read cost no copies.
local function reader(readbytes, pre)
	return { read = readbytes, buf = pre or "", pos = 1 }
end

local function rd_line(r, limit)
	while true do
		local s = find(r.buf, "\r\n", r.pos, true)
		if s then
			local line = sub(r.buf, r.pos, s - 1)
			r.pos = s + 2
			return line
		end
		if #r.buf - r.pos + 1 > limit then
			return nil
		end
		r.buf = sub(r.buf, r.pos) .. r.read()
		r.pos = 1
	end
end

local function rd_bytes(r, n)
	local have = #r.buf - r.pos + 1
	if have >= n then
		local s = sub(r.buf, r.pos, r.pos + n - 1)
		r.pos = r.pos + n
		return s
	end
	local s = sub(r.buf, r.pos) .. r.read(n - have)
	r.buf, r.pos = "", 1
	return s
end

local function rd_rest(r)
	return sub(r.buf, r.pos)
end

---------------------------------------------------------------- chunked body

-- Decodes a chunked body (RFC 7230 §4.1).  `body` holds bytes already read.
-- Returns body, header (trailer fields added), rest (bytes after the body);
-- or nil, 413 when the body exceeds bodylimit, nil, 400 when it is malformed.
function M.recvchunkedbody(readbytes, bodylimit, header, body)
	local r = reader(readbytes, body)
	local parts, size = {}, 0
	while true do
		local line = rd_line(r, M.MAX_LINE)
		if not line then
			return nil, 400
		end
		local hex, ext = match(line, "^(%x+)[ \t]*(.*)$")
		if not hex or #hex > 15 or (ext ~= "" and sub(ext, 1, 1) ~= ";") then
			return nil, 400
		end
		local sz = tonumber(hex, 16)
		if sz == 0 then
			break
		end
		size = size + sz
		if bodylimit and size > bodylimit then
			return nil, 413
		end
		local data = rd_bytes(r, sz + 2)
		if sub(data, -2) ~= "\r\n" then
			return nil, 400
		end
		parts[#parts + 1] = sub(data, 1, sz)
	end
	local lines = {}
	local rest = M.recvheader(readbytes, lines, rd_rest(r))
	if not rest then
		return nil, 413
	end
	if not M.parseheader(lines, 1, header) then
		return nil, 400
	end
	return concat(parts), header, rest
end

-- One chunk of a chunked body, and its end.
function M.chunk(s)
	return format("%x\r\n%s\r\n", #s, s)
end
M.LAST_CHUNK = "0\r\n\r\n"

---------------------------------------------------------------- requests (server side)

-- Parses a request line: method, target, version (a number) or nil.
function M.parse_request_line(line)
	local method, target, major, minor = match(line, "^([%w!#%$%%&'%*%+%-%.%^_`|~]+) (%S+) HTTP/(%d)%.(%d)$")
	if not method then
		return nil
	end
	return method, target, tonumber(major) + tonumber(minor) / 10
end

-- Reads one whole request.  Returns 200, target, method, header, body,
-- version, rest; or an error status (400 malformed, 413 too large,
-- 501 unknown transfer coding, 505 version) and a reason.  `expect_continue`
-- is called (if given) before reading a body the client holds back behind
-- "Expect: 100-continue".
function M.readrequest(readbytes, bodylimit, expect_continue)
	local lines = {}
	local rest = M.recvheader(readbytes, lines, "")
	if not rest then
		return 413, "header too large"
	end
	local method, target, version = M.parse_request_line(lines[1] or "")
	if not method then
		return 400, "bad request line"
	end
	if version < 1.0 or version >= 2.0 then
		return 505, "version " .. tostring(version)
	end
	local header = M.parseheader(lines, 2, {})
	if not header then
		return 400, "bad header field"
	end
	local te = header["transfer-encoding"]
	local length = header["content-length"]
	if type(te) == "table" or type(length) == "table" then
		return 400, "repeated framing field"
	end
	if te and length then
		-- RFC 7230 §3.3.3: both is a smuggling attempt or a broken client
		return 400, "both Transfer-Encoding and Content-Length"
	end
	if te then
		te = lower(te)
		if te ~= "chunked" and te ~= "identity" then
			return 501, "transfer coding " .. te
		end
	end
	if length then
		if not match(length, "^%d+$") or #length > 15 then
			return 400, "bad Content-Length"
		end
		length = tonumber(length)
		if bodylimit and length > bodylimit then
			return 413, "body too large"
		end
	end
	local expect = header.expect
	if expect_continue and type(expect) == "string" and lower(expect) == "100-continue"
		and (te == "chunked" or (length and length > 0)) then
		expect_continue()
	end
	local body
	if te == "chunked" then
		local err
		body, err, rest = M.recvchunkedbody(readbytes, bodylimit, header, rest)
		if not body then
			return err, err == 413 and "body too large" or "bad chunked body"
		end
	elseif length then
		if #rest >= length then
			body = sub(rest, 1, length)
			rest = sub(rest, length + 1)
		else
			body = rest .. readbytes(length - #rest)
			rest = ""
		end
	else
		body = ""
	end
	return 200, target, method, header, body, version, rest
end

-- Whether the connection stays open after this exchange (RFC 7230 §6.3).
function M.keepalive(header, version)
	local c = header and header.connection
	if type(c) == "table" then
		c = concat(c, ",")
	end
	c = c and lower(c) or ""
	if find(c, "close", 1, true) then
		return false
	end
	if version and version < 1.1 then
		return find(c, "keep-alive", 1, true) ~= nil
	end
	return true
end

---------------------------------------------------------------- responses (server side)

M.STATUS = {
	[100] = "Continue", [101] = "Switching Protocols",
	[200] = "OK", [201] = "Created", [202] = "Accepted", [203] = "Non-Authoritative Information",
	[204] = "No Content", [205] = "Reset Content", [206] = "Partial Content",
	[300] = "Multiple Choices", [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
	[304] = "Not Modified", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
	[400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
	[405] = "Method Not Allowed", [406] = "Not Acceptable", [408] = "Request Timeout",
	[409] = "Conflict", [410] = "Gone", [411] = "Length Required", [412] = "Precondition Failed",
	[413] = "Payload Too Large", [414] = "URI Too Long", [415] = "Unsupported Media Type",
	[417] = "Expectation Failed", [426] = "Upgrade Required", [429] = "Too Many Requests",
	[500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
	[503] = "Service Unavailable", [504] = "Gateway Timeout", [505] = "HTTP Version Not Supported",
}

local function has_field(header, name)
	if header then
		for k in pairs(header) do
			if lower(k) == name then
				return true
			end
		end
	end
	return false
end

local function add_fields(out, header)
	if header then
		for k, v in pairs(header) do
			if type(v) == "table" then
				for _, one in ipairs(v) do
					out[#out + 1] = format("%s: %s\r\n", k, one)
				end
			else
				out[#out + 1] = format("%s: %s\r\n", k, v)
			end
		end
	end
end

-- Writes a response through writefunc.  body: a string (sent with
-- Content-Length), a function returning the next piece or nil at the end
-- (sent chunked), or nil (no body: Content-Length 0 unless the status never
-- has a body or the header already gives a length).  The start line and
-- header go out in one write, and a string body with them when it is small.
function M.writeresponse(writefunc, status, body, header)
	local out = { format("HTTP/1.1 %03d %s\r\n", status, M.STATUS[status] or "Unknown") }
	add_fields(out, header)
	local t = type(body)
	if t == "string" then
		out[#out + 1] = format("content-length: %d\r\n\r\n", #body)
		if #body <= 16384 then
			out[#out + 1] = body
			writefunc(concat(out))
		else
			writefunc(concat(out))
			writefunc(body)
		end
	elseif t == "function" then
		out[#out + 1] = "transfer-encoding: chunked\r\n\r\n"
		writefunc(concat(out))
		while true do
			local s = body()
			if s == nil then
				break
			end
			if s ~= "" then
				writefunc(M.chunk(s))
			end
		end
		writefunc(M.LAST_CHUNK)
	elseif t == "nil" then
		if not (status < 200 or status == 204 or status == 304 or has_field(header, "content-length")) then
			out[#out + 1] = "content-length: 0\r\n"
		end
		out[#out + 1] = "\r\n"
		writefunc(concat(out))
	else
		error("http body must be a string, a function or nil, not " .. t)
	end
end

---------------------------------------------------------------- client side

-- interface: { read = readbytes, write = writefunc, readall = function }
-- Sends a request and reads the response head.  content: a string, or a
-- function returning pieces (then sent chunked).  Returns status, the bytes
-- read past the head, the response header.
function M.request(interface, method, host, url, recvheader, header, content)
	local write = interface.write
	local out = { format("%s %s HTTP/1.1\r\n", method, url) }
	if not has_field(header, "host") then
		out[#out + 1] = format("host: %s\r\n", host)
	end
	add_fields(out, header)
	local chunked = false
	if type(content) == "function" then
		chunked = true
		if not has_field(header, "transfer-encoding") then
			out[#out + 1] = "transfer-encoding: chunked\r\n"
		end
	elseif content then
		local te = nil
		if header then
			for k, v in pairs(header) do
				if lower(k) == "transfer-encoding" then te = v end
			end
		end
		-- a string with "transfer-encoding: chunked" is already encoded
		if not te and not has_field(header, "content-length") then
			out[#out + 1] = format("content-length: %d\r\n", #content)
		end
	elseif method ~= "GET" and method ~= "HEAD" and not has_field(header, "content-length") then
		out[#out + 1] = "content-length: 0\r\n"
	end
	out[#out + 1] = "\r\n"
	if type(content) == "string" and #content <= 16384 then
		out[#out + 1] = content
		content = nil
	end
	write(concat(out))
	if chunked then
		while true do
			local s = content()
			if s == nil then
				break
			end
			if s ~= "" then
				write(M.chunk(s))
			end
		end
		write(M.LAST_CHUNK)
	elseif content then
		write(content)
	end

	local read = interface.read
	local code, rest, resp_header
	repeat
		local lines = {}
		rest = M.recvheader(read, lines, rest or "")
		if not rest then
			error("http response header too large")
		end
		local status = lines[1] and match(lines[1], "^HTTP/%d%.%d (%d%d%d)")
		if not status then
			error("bad http status line: " .. tostring(lines[1]))
		end
		code = tonumber(status)
		resp_header = M.parseheader(lines, 2, code == 100 and {} or (recvheader or {}))
		if not resp_header then
			error("bad http response header")
		end
		-- a 1xx answer is followed by the real one (RFC 7231 §6.2)
	until code >= 200 or code == 101
	return code, rest, resp_header
end

local function no_body(code, method)
	return method == "HEAD" or code < 200 or code == 204 or code == 304
end

-- Reads the response body after M.request.  Returns the body, and the bytes
-- past it (nil when the body ran to the end of the connection).
function M.response(interface, code, body, header, method)
	local te = header["transfer-encoding"]
	if type(te) == "table" then
		error("repeated transfer-encoding")
	end
	if te and lower(te) ~= "identity" then
		if lower(te) ~= "chunked" then
			error("unsupported transfer-encoding " .. te)
		end
		local b, err, rest = M.recvchunkedbody(interface.read, nil, header, body)
		if not b then
			error("bad chunked response body (" .. tostring(err) .. ")")
		end
		return b, rest
	end
	if no_body(code, method) then
		return "", body
	end
	local length = header["content-length"]
	if length then
		if type(length) == "table" or not match(length, "^%d+$") then
			error("bad content-length")
		end
		length = tonumber(length)
		if #body >= length then
			return sub(body, 1, length), sub(body, length + 1)
		end
		return body .. interface.read(length - #body), ""
	end
	-- delimited by the end of the connection
	return body .. (interface.readall() or ""), nil
end

-- A response read piece by piece: stream.status, stream.header,
-- stream:padding() (or calling the stream) returns the next piece, "" at
-- the end of a delimited body and nil once closed; stream:close() (also the
-- <close> of a to-be-closed variable) drops the connection.
local stream = {}
stream.__index = stream

function stream:close()
	local f = self._onclose
	if f then
		self._onclose = nil
		f(self)
	end
end
stream.__close = stream.close

function stream:padding()
	if self._done then
		self:close()
		return nil, self
	end
	local ok, piece = pcall(self._next, self)
	if not ok then
		self._done = true
		self.connected = false
		self:close()
		error(piece)
	end
	return piece, self
end
stream.__call = stream.padding

local function next_length(self)
	local left = self._left
	local buf = self._buf
	if buf ~= "" then
		self._buf = ""
		if #buf > left then
			buf = sub(buf, 1, left)
		end
	else
		buf = self._interface.read()
		if #buf > left then
			buf = sub(buf, 1, left)
		end
	end
	left = left - #buf
	self._left = left
	if left == 0 then
		self._done = true
		self.connected = nil
	end
	return buf
end

local function next_all(self)
	local buf = self._buf
	if buf ~= "" then
		self._buf = ""
		return buf
	end
	local ok, s = pcall(self._interface.read)
	if ok and s and s ~= "" then
		return s
	end
	self._done = true
	self.connected = nil
	return ""
end

local function next_chunked(self)
	local r = self._reader
	local line = rd_line(r, M.MAX_LINE)
	local hex = line and match(line, "^(%x+)[ \t]*;?")
	if not hex or #hex > 15 then
		error("bad chunk size line")
	end
	local sz = tonumber(hex, 16)
	if sz == 0 then
		local lines = {}
		local rest = M.recvheader(self._interface.read, lines, rd_rest(r))
		if not rest or not M.parseheader(lines, 1, self.header) then
			error("bad trailer")
		end
		self._done = true
		self.connected = nil
		return ""
	end
	local data = rd_bytes(r, sz + 2)
	if sub(data, -2) ~= "\r\n" then
		error("bad chunk end")
	end
	return sub(data, 1, sz)
end

function M.response_stream(interface, code, body, header, method)
	local s = setmetatable({
		status = code,
		header = header,
		connected = true,
		_interface = interface,
		_buf = body,
	}, stream)
	local te = header["transfer-encoding"]
	if type(te) == "string" and lower(te) == "chunked" then
		s._next = next_chunked
		s._reader = reader(interface.read, body)
	elseif te and (type(te) ~= "string" or lower(te) ~= "identity") then
		error("unsupported transfer-encoding")
	elseif no_body(code, method) then
		s._next = function(self) self._done = true; self.connected = nil; return "" end
	elseif header["content-length"] then
		local length = header["content-length"]
		if type(length) ~= "string" or not match(length, "^%d+$") then
			error("bad content-length")
		end
		s._left = tonumber(length)
		if s._left == 0 then
			s._next = function(self) self._done = true; self.connected = nil; return "" end
		else
			s._next = next_length
		end
	else
		s._next = next_all
	end
	return s
end

---------------------------------------------------------------- WebSocket frames

-- A protocol violation: `code` is the close code to send (RFC 6455 §7.4.1).
local WSERR = {}
WSERR.__index = WSERR
WSERR.__tostring = function(e) return format("websocket: %s (close %d)", e.reason, e.code) end
M.WSERR = WSERR

local function wsfail(code, reason)
	error(setmetatable({ code = code, reason = reason }, WSERR), 0)
end
M.wsfail = wsfail

M.WS_OPS = { [0] = "frame", [1] = "text", [2] = "binary", [8] = "close", [9] = "ping", [10] = "pong",
	frame = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 }
local OPS = M.WS_OPS

-- Reads one frame.  server: this end is the server (so frames must arrive
-- masked; a client's must not).  maxsize: the largest payload accepted.
-- mask(data, key): the XOR of RFC 6455 §5.3.  Returns fin, op name, payload
-- (unmasked); a violation raises a WSERR.
function M.ws_read_frame(read, server, maxsize, mask)
	local b1, b2 = string.byte(read(2), 1, 2)
	local fin = b1 & 0x80 ~= 0
	if b1 & 0x70 ~= 0 then
		wsfail(1002, "reserved bits set without an extension")
	end
	local opcode = b1 & 0x0f
	local op = OPS[opcode]
	if not op then
		wsfail(1002, "unknown opcode " .. opcode)
	end
	local masked = b2 & 0x80 ~= 0
	if masked ~= server then
		wsfail(1002, server and "unmasked frame from a client" or "masked frame from a server")
	end
	local len = b2 & 0x7f
	if opcode >= 8 then
		if not fin then
			wsfail(1002, "fragmented control frame")
		end
		if len > 125 then
			wsfail(1002, "control frame longer than 125 bytes")
		end
	end
	if len == 126 then
		len = string.unpack(">I2", read(2))
	elseif len == 127 then
		len = string.unpack(">i8", read(8))
		if len < 0 then
			wsfail(1002, "64-bit length with the top bit set")
		end
	end
	if len > maxsize then
		wsfail(1009, format("frame of %d bytes exceeds %d", len, maxsize))
	end
	local key = masked and read(4)
	local payload = len > 0 and read(len) or ""
	if key and len > 0 then
		payload = mask(payload, key)
	end
	return fin, op, payload
end

local function valid_close_code(c)
	return (c >= 1000 and c <= 1003) or (c >= 1007 and c <= 1014) or (c >= 3000 and c <= 4999)
end
M.valid_close_code = valid_close_code

-- Reads frames until a whole message or a control frame.  st keeps a
-- fragmented message across control frames in its middle (a fresh {} per
-- connection).  Returns one of
--   "text"|"binary", data        a whole message (text checked as UTF-8)
--   "ping"|"pong", payload
--   "close", reason, code        code nil when the frame had no body
-- and raises a WSERR on a violation; maxsize bounds frames and messages.
function M.ws_read_message(st, read, server, maxsize, mask)
	while true do
		local fin, op, payload = M.ws_read_frame(read, server, maxsize, mask)
		if op == "close" then
			local n = #payload
			if n == 0 then
				return "close", "", nil
			elseif n == 1 then
				wsfail(1002, "close frame with a 1-byte body")
			end
			local code = string.unpack(">I2", payload)
			if not valid_close_code(code) then
				wsfail(1002, "invalid close code " .. code)
			end
			local reason = sub(payload, 3)
			if not utf8.len(reason) then
				wsfail(1007, "close reason is not UTF-8")
			end
			return "close", reason, code
		elseif op == "ping" or op == "pong" then
			return op, payload
		elseif op == "frame" then
			local parts = st.parts
			if not parts then
				wsfail(1002, "continuation frame without a message")
			end
			local size = st.size + #payload
			if size > maxsize then
				wsfail(1009, format("message of more than %d bytes", maxsize))
			end
			st.size = size
			parts[#parts + 1] = payload
			if fin then
				local kind = st.op
				local data = concat(parts)
				st.parts, st.op, st.size = nil, nil, 0
				if kind == "text" and not utf8.len(data) then
					wsfail(1007, "text message is not UTF-8")
				end
				return kind, data
			end
		else
			if st.parts then
				wsfail(1002, "new message inside a fragmented one")
			end
			if fin then
				if op == "text" and not utf8.len(payload) then
					wsfail(1007, "text message is not UTF-8")
				end
				return op, payload
			end
			st.parts, st.op, st.size = { payload }, op, #payload
		end
	end
end

-- One frame, ready to write.  key: nil (server) or 4 bytes (client: RFC
-- 6455 §5.3 requires a fresh random key per frame).
function M.ws_frame(op, payload, fin, key, mask)
	local b1 = (fin == false and 0 or 0x80) | OPS[op]
	local n = #payload
	local m = key and 0x80 or 0
	local head
	if n < 126 then
		head = string.pack("BB", b1, m | n)
	elseif n <= 0xffff then
		head = string.pack(">BBI2", b1, m | 126, n)
	else
		head = string.pack(">BBI8", b1, m | 127, n)
	end
	if key then
		return head .. key .. (n > 0 and mask(payload, key) or "")
	end
	return head .. payload
end

return M
