-- http.admin — the HTTP of the node's own admin endpoints (the debug
-- console, services/debug_console.lua, and the metrics endpoint,
-- services/metrics.lua): one request per connection, read, judged and
-- answered.  Parsing is http.internal's (the one HTTP parser of the tree);
-- this module adds what an admin endpoint needs on top of it.
--
--   local admin = require "http.admin"
--   local req, status, reason = admin.read_request(readbytes, max_head)
--     req = { method, target, version, header, rest }; header names are
--     lower-case and a repeated field is a list (so never trusted as one
--     value).  nil, status, reason for a head that is malformed (400) or
--     larger than max_head (413).  Raises when the peer goes away (as
--     readbytes does).
--   local body, status, reason = admin.read_body(readbytes, req, limit)
--     the body of a request that gives Content-Length (411 without it, 413
--     over limit; Transfer-Encoding is refused with 411: an admin command is
--     small and sent whole).
--   admin.host_allowed(host, port, extra) / admin.origin_allowed(header)
--   admin.same_site(req, policy) -> nil, or 403, reason when the Host is not
--     policy.port's own (or one of policy.hosts) or the Origin is foreign
--   admin.bearer(header) -> the token of "Authorization: Bearer <token>"
--   admin.guard(req, policy) -> nil when the request may go on, else status,
--     reason: policy.token (required) with policy.equal(a, b) (a constant-
--     time compare); with policy.port also Host and Origin (a browser-facing
--     endpoint: DNS rebinding and cross-site pages are refused), with
--     policy.hosts the extra Host names allowed.
--   admin.path_words(target) -> the words of a path ("/a/b%20c" -> {"a", "b c"})
--   admin.respond(writefunc, status, ctype, body [, opts]) -> ok
--     opts.head_only (HEAD: the length without the body), opts.header (more
--     fields).  Every answer has Content-Length and Connection: close.
--   admin.read_token(path) -> token or nil, reason: a token file (regular,
--     mode 0600/0400, at least TOKEN_MIN characters, no white space).
--
-- Nothing here touches skynet (read_token loads skynet.secretfile when
-- called), so the fuzz target tests/fuzz/fuzz_console.c runs it on raw bytes.
local internal = require "http.internal"

local admin = {}

admin.TOKEN_MIN = 16

local function head_limited(readbytes, lines, limit)
	local saved = internal.MAX_HEADER
	internal.MAX_HEADER = limit
	local ok, rest = pcall(internal.recvheader, readbytes, lines, "")
	internal.MAX_HEADER = saved
	if not ok then
		error(rest, 0)
	end
	return rest
end

function admin.read_request(readbytes, max_head)
	local lines = {}
	local rest = head_limited(readbytes, lines, max_head or 8192)
	if not rest then
		return nil, 413, "request head too large"
	end
	local method, target, version = internal.parse_request_line(lines[1] or "")
	if not method then
		return nil, 400, "malformed request line"
	end
	local header = internal.parseheader(lines, 2, {})
	if not header then
		return nil, 400, "malformed header field"
	end
	return { method = method, target = target, version = version, header = header, rest = rest }
end

function admin.read_body(readbytes, req, limit)
	local h = req.header
	if h["transfer-encoding"] ~= nil then
		return nil, 411, "send the body with Content-Length, not Transfer-Encoding"
	end
	local n = h["content-length"]
	if type(n) ~= "string" or not string.match(n, "^%d+$") or #n > 15 then
		return nil, 411, "POST needs Content-Length"
	end
	n = tonumber(n)
	if n > limit then
		return nil, 413, "body too large"
	end
	local rest = req.rest or ""
	if #rest >= n then
		return string.sub(rest, 1, n)
	end
	return rest .. readbytes(n - #rest)
end

-- True when a Host header value names this endpoint: localhost, an IPv4
-- literal, a bracketed IPv6 literal or a configured name, with no port or
-- the endpoint's port.  Any other name may be a DNS name an attacker points
-- at 127.0.0.1 (DNS rebinding), so it is refused.
function admin.host_allowed(host, port, extra)
	if type(host) ~= "string" then return false end
	host = string.lower(host)
	local name, p = string.match(host, "^(%[[%x:%.]+%]):?(%d*)$")
	if not name then
		name, p = string.match(host, "^([^:%[%]]+):?(%d*)$")
	end
	if not name then return false end
	if p ~= "" and tonumber(p) ~= port then return false end
	if name == "localhost" or string.sub(name, 1, 1) == "[" or (extra and extra[name]) then
		return true
	end
	local a, b, c, d = string.match(name, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	return a ~= nil and tonumber(a) < 256 and tonumber(b) < 256 and tonumber(c) < 256 and tonumber(d) < 256
end

-- No Origin (not a browser, or a same-origin GET), or exactly our own.
function admin.origin_allowed(header)
	local origin = header.origin
	return origin == nil or (type(header.host) == "string" and origin == "http://" .. header.host)
end

function admin.bearer(header)
	local a = header.authorization
	return type(a) == "string" and string.match(a, "^[Bb]earer +(%S+) *$") or nil
end

function admin.same_site(req, policy)
	local h = req.header
	if not admin.host_allowed(h.host, policy.port, policy.hosts) then
		return 403, "Host not allowed: this endpoint answers only to its own address"
	end
	if not admin.origin_allowed(h) then
		return 403, "cross-origin request refused"
	end
	return nil
end

function admin.guard(req, policy)
	local h = req.header
	if policy.port then
		local status, reason = admin.same_site(req, policy)
		if status then
			return status, reason
		end
	end
	local given = admin.bearer(h)
	if not given or not policy.token or not policy.equal(policy.token, given) then
		return 401, "missing or wrong token (Authorization: Bearer <token>)"
	end
	return nil
end

function admin.url_decode(s)
	s = string.gsub(s, "+", " ")
	return (string.gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

function admin.path_words(target)
	local words = {}
	for seg in string.gmatch(string.match(target, "^[^?#]*"), "[^/]+") do
		words[#words + 1] = admin.url_decode(seg)
	end
	return words
end

function admin.respond(writefunc, status, ctype, body, opts)
	local header = { ["content-type"] = ctype, connection = "close" }
	if opts and opts.header then
		for k, v in pairs(opts.header) do header[k] = v end
	end
	if opts and opts.head_only then
		header["content-length"] = #body
		body = nil
	end
	return (pcall(internal.writeresponse, writefunc, status, body, header))
end

function admin.read_token(path)
	local t, err = require("skynet.secretfile").read(path)
	if not t then
		return nil, err
	end
	if #t < admin.TOKEN_MIN or string.find(t, "%s") then
		return nil, string.format("token file %s: the token must be at least %d characters with no white space",
			path, admin.TOKEN_MIN)
	end
	return t
end

return admin
