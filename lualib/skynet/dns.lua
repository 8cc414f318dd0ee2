-- skynet.dns — an asynchronous DNS resolver (RFC 1035 over UDP) on the
-- node's own sockets: a lookup suspends only the calling coroutine, never a
-- worker thread.
--
--   dns.server([ip [, port]])  the server to ask (default: the first
--                              `nameserver` of dns.DEFAULT_RESOLV_CONF, port 53)
--   dns.resolve(name [, ipv6]) -> ip, { every ip }   (A, or AAAA when ipv6)
--       a literal address comes back as it is; names are looked up in
--       dns.DEFAULT_HOSTS first, then in the cache (kept for the answer's
--       TTL), then asked; an invalid name returns nil, "illegal name"; no
--       answer within dns.TIMEOUT (centiseconds), a failure code from the
--       server or an empty answer raises an error naming the cause.
--   dns.flush()                forget the cache and re-read the hosts file
-- One UDP socket per service, opened on first use.  Answers are matched to
-- questions by id and by the question they repeat; anything else is dropped
-- with a log line.
local skynet = require "skynet"
local socket = require "skynet.socket"

local dns = {}

dns.DEFAULT_HOSTS = "/etc/hosts"
dns.DEFAULT_RESOLV_CONF = "/etc/resolv.conf"
dns.TIMEOUT = 500

local QTYPE_A, QTYPE_AAAA, QTYPE_CNAME = 1, 28, 5
local RCODE = { [1] = "format error", [2] = "server failure", [3] = "no such name",
	[4] = "not implemented", [5] = "refused" }

local server = { address = nil, port = 53, fd = nil }
local cache = { [QTYPE_A] = {}, [QTYPE_AAAA] = {} }
local hosts          -- name -> { ipv4 = {...}, ipv6 = {...} }, read on first use
local pending = {}   -- id -> request

local function name_type(name)
	if name:match("^%d+%.%d+%.%d+%.%d+$") then
		return "ipv4"
	elseif name:find(":", 1, true) then
		return "ipv6"
	end
	return "hostname"
end

local function valid_name(name)
	if #name == 0 or #name > 253 then
		return false
	end
	for label in (name:gsub("%.$", "") .. "."):gmatch("([^.]*)%.") do
		if #label == 0 or #label > 63 or not label:match("^[%w_%-]+$") then
			return false
		end
	end
	return true
end

local function read_hosts()
	local t = {}
	local f = dns.DEFAULT_HOSTS and io.open(dns.DEFAULT_HOSTS)
	if not f then
		return t
	end
	for line in f:lines() do
		line = line:gsub("#.*", "")
		local ip, names = line:match("^%s*(%S+)%s+(.-)%s*$")
		if ip and names ~= "" then
			local family = name_type(ip)
			if family ~= "hostname" then
				for n in names:gmatch("%S+") do
					n = n:lower()
					local e = t[n] or {}
					t[n] = e
					e[family] = e[family] or {}
					table.insert(e[family], ip)
				end
			end
		end
	end
	f:close()
	return t
end

local function read_resolv_conf()
	local f = dns.DEFAULT_RESOLV_CONF and io.open(dns.DEFAULT_RESOLV_CONF)
	if not f then
		return nil
	end
	local found
	for line in f:lines() do
		found = line:match("^%s*nameserver%s+([^%s#;]+)")
		if found then
			break
		end
	end
	f:close()
	return found
end

function dns.flush()
	cache = { [QTYPE_A] = {}, [QTYPE_AAAA] = {} }
	hosts = nil
end

---------------------------------------------------------------- wire format

local function pack_name(name)
	local out = {}
	for label in (name:gsub("%.$", "") .. "."):gmatch("([^.]*)%.") do
		out[#out + 1] = string.pack("s1", label)
	end
	out[#out + 1] = "\0"
	return table.concat(out)
end

-- A (possibly compressed, RFC 1035 §4.1.4) name at pos; returns the name and
-- the position after it in the message.  At most 64 pointer jumps.
local function unpack_name(msg, pos)
	local labels, after = {}, nil
	for _ = 1, 64 do
		local len = msg:byte(pos)
		if not len then
			error("truncated name")
		end
		if len == 0 then
			return table.concat(labels, "."), after or pos + 1
		elseif len & 0xc0 == 0xc0 then
			local b2 = msg:byte(pos + 1)
			if not b2 then
				error("truncated pointer")
			end
			after = after or pos + 2
			pos = ((len & 0x3f) << 8 | b2) + 1
		elseif len & 0xc0 == 0 then
			local label = msg:sub(pos + 1, pos + len)
			if #label ~= len then
				error("truncated label")
			end
			labels[#labels + 1] = label:lower()
			pos = pos + 1 + len
		else
			error("bad label type")
		end
	end
	error("name pointer loop")
end

local function format_ip(qtype, rdata)
	if qtype == QTYPE_A then
		return string.format("%d.%d.%d.%d", rdata:byte(1, 4))
	end
	local g = {}
	for i = 1, 16, 2 do
		g[#g + 1] = string.format("%x", string.unpack(">I2", rdata, i))
	end
	return table.concat(g, ":")
end

-- Parses a reply; returns id, rcode, question name, qtype, answers (ips of
-- qtype), ttl (the smallest, seconds).
local function parse_reply(msg)
	if #msg < 12 then
		error("short reply")
	end
	local id, flags, qd, an = string.unpack(">I2I2I2I2", msg)
	if flags & 0x8000 == 0 then
		error("not a reply")
	end
	if qd ~= 1 then
		error("reply with " .. qd .. " questions")
	end
	local qname, pos = unpack_name(msg, 13)
	if #msg < pos + 3 then
		error("truncated question")
	end
	local qtype = string.unpack(">I2", msg, pos)
	pos = pos + 4
	local answers, ttl = {}, nil
	for _ = 1, an do
		local _, p = unpack_name(msg, pos)
		if #msg < p + 9 then
			error("truncated answer")
		end
		local atype, _, attl, rdlen = string.unpack(">I2I2I4I2", msg, p)
		p = p + 10
		local rdata = msg:sub(p, p + rdlen - 1)
		if #rdata ~= rdlen then
			error("truncated rdata")
		end
		pos = p + rdlen
		if atype == qtype and ((qtype == QTYPE_A and rdlen == 4) or (qtype == QTYPE_AAAA and rdlen == 16)) then
			answers[#answers + 1] = format_ip(qtype, rdata)
			ttl = ttl and math.min(ttl, attl) or attl
		elseif atype ~= QTYPE_CNAME and atype ~= qtype then
			-- another type in the answer section: ignored
		end
	end
	return id, flags & 0xf, qname, qtype, answers, ttl or 0
end

local function on_reply(msg, from)
	local ok, id, rcode, qname, qtype, answers, ttl = pcall(parse_reply, msg)
	if not ok then
		skynet.error("dns: dropped a bad reply: " .. tostring(id))
		return
	end
	local req = pending[id]
	if not req or req.name ~= qname or req.qtype ~= qtype then
		skynet.error(string.format("dns: dropped a reply to no question (id %d, %s)", id, qname))
		return
	end
	pending[id] = nil
	if rcode ~= 0 then
		req.err = RCODE[rcode] or ("rcode " .. rcode)
	elseif #answers == 0 then
		req.err = "no answer"
	else
		req.answers = answers
		cache[qtype][qname] = { answers = answers, expire = skynet.now() + ttl * 100 }
	end
	skynet.wakeup(req.co)
end

local function udp_socket()
	if server.fd then
		return server.fd
	end
	if not server.address then
		server.address = read_resolv_conf()
		if not server.address then
			error("dns: no server (call dns.server, or list one in " .. tostring(dns.DEFAULT_RESOLV_CONF) .. ")")
		end
	end
	local fd = socket.udp(on_reply)
	socket.udp_connect(fd, server.address, server.port)
	server.fd = fd
	return fd
end

function dns.server(address, port)
	if server.fd then
		socket.close(server.fd)
		server.fd = nil
	end
	server.address = address
	server.port = port or 53
end

local function new_id()
	for _ = 1, 100 do
		local id = math.random(0, 0xffff)
		if not pending[id] then
			return id
		end
	end
	error("dns: too many questions in flight")
end

local function ask(name, qtype)
	local c = cache[qtype][name]
	if c and c.expire > skynet.now() then
		return c.answers[1], c.answers
	end
	local fd = udp_socket()
	local id = new_id()
	local req = { name = name, qtype = qtype, co = coroutine.running() }
	pending[id] = req
	socket.write(fd, string.pack(">I2I2I2I2I2I2", id, 0x0100, 1, 0, 0, 0)
		.. pack_name(name) .. string.pack(">I2I2", qtype, 1))
	skynet.timeout(dns.TIMEOUT, function()
		if pending[id] == req then
			pending[id] = nil
			req.err = "timeout"
			skynet.wakeup(req.co)
		end
	end)
	skynet.wait(req.co)
	if req.answers then
		return req.answers[1], req.answers
	end
	error(string.format("dns: %s: %s", name, req.err))
end

function dns.resolve(name, ipv6)
	name = name:lower()
	local t = name_type(name)
	if t ~= "hostname" then
		if (t == "ipv6") ~= (ipv6 and true or false) then
			return nil, "illegal ip address"
		end
		return name, { name }
	end
	if not valid_name(name) then
		return nil, "illegal name"
	end
	name = name:gsub("%.$", "")
	hosts = hosts or read_hosts()
	local h = hosts[name]
	local family = ipv6 and "ipv6" or "ipv4"
	if h and h[family] then
		return h[family][1], h[family]
	end
	return ask(name, ipv6 and QTYPE_AAAA or QTYPE_A)
end

return dns
