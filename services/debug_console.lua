-- debug_console — the admin console over TCP.
-- Args: `[ip] port`; ip defaults to 127.0.0.1 (never all interfaces unless
-- asked); port 0 picks a free port.  The bound address is logged as
-- "Start debug console at IP:PORT".
--
-- Whoever speaks to the console can stop, start and inspect every service of
-- the node, so it is authenticated and refuses browsers (docs/console.md):
--  * config `console_token`: path of a file holding the access token (at
--    least 16 characters), mode 0600 or 0400, a regular file; without it, or
--    with a file group or others may read, the console does not start and
--    says why.
--  * line protocol: the first line must be `auth <token>` (answered by
--    "<CMD OK>"); anything else gets "<CMD Error>" and the connection closes.
--    A connection that has not authenticated within AUTH_TIMEOUT is closed.
--  * HTTP (first line a request line): one request per connection, answered
--    and closed.  It needs `Authorization: Bearer <token>`, a Host header naming
--    this console (localhost, an IP literal or a name in `console_hosts`, with
--    the console's port if any: a DNS-rebound name is refused) and no Origin
--    header other than the console's own.  GET (`GET /cmd/arg...`) runs only
--    read-only commands; every other command needs POST with
--    `Content-Type: application/x-skiff-command` and the command line as body
--    (a type no HTML form or simple cross-site request can send).
--  * `inject`, `debug`, and `dbgcmd` RUN / INJECT / REMOTEDEBUG run Lua code
--    chosen by the operator inside a service: off unless `console_run = true`.
--
-- Line protocol: one command per line, words separated by spaces; the answer
-- is tab-separated lines ended by "<CMD OK>" or "<CMD Error>".
--
-- JSON: any command prefixed with the word `json` (`json list`, over HTTP
-- `GET /json/list`) answers with one line `{"ok":true,"result":...}` or
-- `{"ok":false,"error":"..."}` (then the usual terminator on the line
-- protocol; over HTTP the body is that line alone, Content-Type
-- application/json).
--
-- Cluster view (skynet.nodestatus): `nodes`, `names`, `links`, `cluster`
-- (all three, plus the link tables of every other node that runs a console)
-- and `metrics` (the Prometheus text of this node).  In harbor mode the
-- console registers the global name `skiffcon<id>` and answers the "lua"
-- command STATUS with its node's status, so `cluster` on any node can show
-- every node's links.
local skynet = require "skynet"
local core = require "skynet.core"
local socket = require "skynet.socket"
local json = require "skynet.json"
local nodestatus = require "skynet.nodestatus"
local secretfile = require "skynet.secretfile"
require "skynet.manager"

local args = table.pack(...)
local ip = args.n >= 2 and args[1] or "127.0.0.1"
local port = tonumber(args[args.n]) or 0
local TIMEOUT = 300 -- cs, for stat/mem/gc

local COMMAND = {}   -- name -> function(args...)
local COMMANDX = {}  -- name -> function(words{ [1] = whole line, fd = socket })
local TEXT = {}      -- name -> function(print, result): a command's own text layout
local REMOTE_TIMEOUT = 100 -- cs, for asking other nodes' consoles

local TOKEN_MIN = 16         -- characters of a usable token
local AUTH_TIMEOUT = 1000    -- cs to authenticate (line protocol) or send a whole request (HTTP)
local AUTH_FAIL_DELAY = 20   -- cs before a refusal is answered: slows guessing
local LINE_MAX = 8192        -- bytes of an unauthenticated line, or of an HTTP head
local BODY_MAX = 65536       -- bytes of an HTTP command body
local COMMAND_TYPE = "application/x-skiff-command"

local token           -- the access token, read at start
local allow_run = false -- config console_run: inject, debug and dbgcmd RUN/INJECT/REMOTEDEBUG
local bound_port      -- the port Host headers must name
local extra_hosts = {} -- config console_hosts: more names a Host header may give

-- Commands that change nothing: the only ones a GET may run.
local READ_ONLY = {
	help = true, list = true, stat = true, mem = true, service = true, task = true,
	uniqtask = true, cmem = true, ping = true, netstat = true, getenv = true,
	nodes = true, names = true, links = true, cluster = true, metrics = true,
}

-- Debug commands that run Lua code chosen by the operator in the target.
local CODE_DEBUG = { RUN = true, INJECT = true, REMOTEDEBUG = true }

local function format_table(t)
	local keys = {}
	for k in pairs(t) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	local parts = {}
	for _, k in ipairs(keys) do
		local v = t[k]
		if type(v) == "table" then
			v = "{" .. format_table(v) .. "}"
		end
		parts[#parts + 1] = string.format("%s:%s", tostring(k), tostring(v))
	end
	return table.concat(parts, "\t")
end

local function dump_list(print, list)
	local keys = {}
	for k in pairs(list) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	for _, k in ipairs(keys) do
		local v = list[k]
		if type(v) == "table" then
			print(tostring(k), format_table(v))
		else
			print(tostring(k), tostring(v))
		end
	end
end

local function split_words(line)
	local words = {}
	for w in string.gmatch(line, "%S+") do
		words[#words + 1] = w
	end
	return words
end

local function run_command(words, line, fd)
	local name = words[1]
	local f = COMMAND[name]
	if f then
		return pcall(f, table.unpack(words, 2))
	end
	f = COMMANDX[name]
	if f then
		local x = { line, fd = fd }
		for i = 2, #words do x[i] = words[i] end
		return pcall(f, x)
	end
	return false, "Invalid command, type help for command list"
end

-- Runs one command line; returns true when it succeeded.  With `json` as the
-- first word the answer is one JSON line.
local function docmd(line, print, fd)
	local words = split_words(line)
	if words[1] == "json" then
		table.remove(words, 1)
		line = string.gsub(line, "^%s*json%s*", "", 1)
		local ok, result = run_command(words, line, fd)
		if ok then
			if result == nil then result = json.null end
			print(json.encode({ ok = true, result = result }))
			print("<CMD OK>")
		else
			print(json.encode({ ok = false, error = tostring(result) }))
			print("<CMD Error>")
		end
		return ok
	end
	local ok, result = run_command(words, line, fd)
	if ok then
		if result ~= nil then
			local text = TEXT[words[1]]
			if text then
				text(print, result)
			elseif type(result) == "table" then
				dump_list(print, result)
			else
				print(tostring(result))
			end
		end
		print("<CMD OK>")
	else
		print(tostring(result))
		print("<CMD Error>")
	end
	return ok
end

local function url_decode(s)
	s = string.gsub(s, "+", " ")
	return (string.gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The command line a GET path names: "/json/getenv/x" -> "json getenv x".
local function path_command(path)
	local words = {}
	for seg in string.gmatch(string.match(path, "^[^?#]*"), "[^/]+") do
		words[#words + 1] = url_decode(seg)
	end
	return table.concat(words, " ")
end

-- True when a Host header value names this console: localhost, an IPv4
-- literal, a bracketed IPv6 literal or a configured name, with no port or
-- the console's port.  Any other name may be a DNS name an attacker points at
-- 127.0.0.1 (DNS rebinding), so it is refused.
local function host_allowed(host, port_, extra)
	if type(host) ~= "string" then return false end
	host = string.lower(host)
	local name, p = string.match(host, "^(%[[%x:%.]+%]):?(%d*)$")
	if not name then
		name, p = string.match(host, "^([^:%[%]]+):?(%d*)$")
	end
	if not name then return false end
	if p ~= "" and tonumber(p) ~= port_ then return false end
	if name == "localhost" or string.sub(name, 1, 1) == "[" or extra[name] then
		return true
	end
	local a, b, c_, d = string.match(name, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
	return a ~= nil and tonumber(a) < 256 and tonumber(b) < 256 and tonumber(c_) < 256 and tonumber(d) < 256
end

-- The verdict on one HTTP request, before anything runs.  req: method,
-- target, headers (lower-case names, one value each; a repeated Host,
-- Origin, Authorization or Content-Type is `false`).  policy: token, port,
-- hosts, check_token(a, b), known(name) (true for a command that exists: an
-- unknown one may come by GET and get its "Invalid command").  Returns 200 and the command line, or an error
-- status and a one-line reason.
local function http_verdict(req, policy)
	local h = req.headers
	if not req.method or not req.target then
		return 400, "malformed request line"
	end
	if not host_allowed(h.host, policy.port, policy.hosts) then
		return 403, "Host not allowed: this console answers only to its own address"
	end
	if h.origin ~= nil and h.origin ~= "http://" .. h.host then
		return 403, "cross-origin request refused"
	end
	local given = type(h.authorization) == "string" and string.match(h.authorization, "^[Bb]earer +(%S+) *$")
	if not given or not policy.check_token(policy.token, given) then
		return 401, "missing or wrong token (Authorization: Bearer <token>)"
	end
	if req.method == "GET" then
		local line = path_command(req.target)
		local words = split_words(line)
		local name = words[1] == "json" and words[2] or words[1]
		if name ~= nil and not READ_ONLY[name] and policy.known(name) then
			return 405, string.format("%s changes the node: use POST with Content-Type: %s", name, COMMAND_TYPE)
		end
		return 200, line
	elseif req.method == "POST" then
		local ctype = type(h["content-type"]) == "string" and string.lower(string.match(h["content-type"], "^[^;]*")) or nil
		if ctype == nil or string.match(ctype, "^%s*(.-)%s*$") ~= COMMAND_TYPE then
			return 415, "POST needs Content-Type: " .. COMMAND_TYPE
		end
		local n = tonumber(h["content-length"] or "")
		if not n or n ~= math.floor(n) or n < 0 then
			return 411, "POST needs Content-Length"
		end
		if n > BODY_MAX then
			return 413, "command body too large"
		end
		return 200, nil
	end
	return 405, "only GET (read-only commands) and POST"
end

local REASON = {
	[200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
	[405] = "Method Not Allowed", [411] = "Length Required", [413] = "Payload Too Large",
	[415] = "Unsupported Media Type",
}

local function http_answer(fd, status, ctype, body, extra)
	socket.write(fd, string.format(
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s",
		status, REASON[status] or "Error", ctype, #body, extra or "", body))
end

local HEADER_KEEP = { host = true, origin = true, authorization = true, ["content-type"] = true,
	["content-length"] = true }

-- The request http_verdict judges, from the request line and the header
-- lines (without their line ends): method and target (nil when the request
-- line is malformed) and the headers the console looks at, by lower-case
-- name; a repeated one is `false`, so neither copy is trusted.
local function parse_request(request_line, header_lines)
	local method, target = string.match(request_line, "^(%u+) (%S+) HTTP/1%.%d$")
	local headers = {}
	for _, header in ipairs(header_lines) do
		local name, value = string.match(header, "^([%w%-]+):%s*(.-)%s*$")
		if name then
			name = string.lower(name)
			if HEADER_KEEP[name] then
				if headers[name] == nil then
					headers[name] = value
				else
					headers[name] = false
				end
			end
		end
	end
	return { method = method, target = target, headers = headers }
end

-- One HTTP exchange: the command comes from the path (GET) or the body (POST).
-- passed() is called once the request is let in and whole (the command may
-- take longer than AUTH_TIMEOUT; the request itself may not).
local function http_exchange(fd, request_line, addr, passed)
	local lines = {}
	local size = #request_line
	while true do
		local header = socket.readline(fd, "\n")
		if not header then return end
		size = size + #header + 1
		if size > LINE_MAX then
			http_answer(fd, 400, "text/plain", "request head too large\n")
			return
		end
		header = string.gsub(header, "\r$", "")
		if header == "" then break end
		lines[#lines + 1] = header
	end
	local req = parse_request(request_line, lines)
	local method, headers = req.method, req.headers
	local status, line = http_verdict(req, {
		token = token, port = bound_port, hosts = extra_hosts, check_token = secretfile.equal,
		known = function(name) return COMMAND[name] ~= nil or COMMANDX[name] ~= nil end,
	})
	if status ~= 200 then
		if status == 401 then skynet.sleep(AUTH_FAIL_DELAY) end
		skynet.error(string.format("debug console: refused HTTP %s from %s: %d %s",
			tostring(method), tostring(addr), status, line))
		local extra = status == 401 and "WWW-Authenticate: Bearer\r\n" or nil
		http_answer(fd, status, "text/plain", line .. "\n", extra)
		return
	end
	if line == nil then
		local n = tonumber(headers["content-length"])
		line = n > 0 and socket.read(fd, n) or ""
		if not line then return end
	end
	passed()
	local out = {}
	local function print(...)
		local n = select("#", ...)
		local parts = {}
		for i = 1, n do parts[i] = tostring((select(i, ...))) end
		out[#out + 1] = table.concat(parts, "\t")
	end
	docmd(line, print, fd)
	local ctype = "text/plain"
	if string.match(line, "^%s*json%f[%s\0]") then
		-- the JSON document alone, without the line protocol's terminator
		ctype = "application/json"
		out[#out] = nil
	end
	http_answer(fd, 200, ctype, table.concat(out, "\n") .. "\n")
end

local function console_main_loop(fd, addr)
	local function print(...)
		local n = select("#", ...)
		local parts = {}
		for i = 1, n do parts[i] = tostring((select(i, ...))) end
		socket.write(fd, table.concat(parts, "\t") .. "\n")
	end
	socket.start(fd)
	socket.limit(fd, LINE_MAX)
	local authenticated = false
	skynet.timeout(AUTH_TIMEOUT, function()
		if not authenticated then
			socket.shutdown(fd) -- wakes the reader with a close
		end
	end)
	skynet.error(addr, "connected")
	local ok, err = pcall(function()
		local line = socket.readline(fd, "\n")
		if not line then return end
		line = string.gsub(line, "\r$", "")
		if string.match(line, "^%u+ %S+ HTTP/") then
			http_exchange(fd, line, addr, function() authenticated = true end)
			return
		end
		local given = string.match(line, "^auth +(%S+) *$")
		if not given or not secretfile.equal(token, given) then
			skynet.sleep(AUTH_FAIL_DELAY)
			skynet.error(string.format("debug console: authentication failed from %s", addr))
			print("authentication required: the first line must be auth <token>")
			print("<CMD Error>")
			return
		end
		authenticated = true
		socket.limit(fd, nil)
		print("Welcome to skiff console")
		print("<CMD OK>")
		while true do
			line = socket.readline(fd, "\n")
			if not line then break end
			line = string.gsub(line, "\r$", "")
			if line ~= "" then
				docmd(line, print, fd)
			end
		end
	end)
	if not ok then
		skynet.error(fd, err)
	end
	skynet.error(addr, "disconnected")
	socket.close(fd)
end

local function adjust_address(address)
	assert(address, "Need an address")
	local prefix = string.sub(address, 1, 1)
	if prefix == "." then
		return assert(skynet.localname(address), "Not a valid name")
	elseif prefix == ":" then
		return assert(tonumber(string.sub(address, 2), 16), "Not a valid address")
	end
	local id = assert(tonumber(address, 16), "Need an address")
	local harbor = skynet.harbor(skynet.self())
	return id | (harbor << 24)
end

function COMMAND.help()
	return {
		help = "This help message",
		list = "List all the service",
		stat = "Dump all stats: stat [timeout]",
		info = "info address ... : get service infomation",
		exit = "exit address : kill a lua service",
		kill = "kill address : kill service",
		mem = "mem [timeout] : show memory status",
		gc = "gc [timeout] : force every lua service do garbage collect",
		start = "lanuch a new lua service",
		log = "launch a new lua service with log",
		clearcache = "clear lua code cache",
		service = "List unique service",
		task = "task address : show service task detail",
		uniqtask = "task address : show service unique task detail",
		killtask = "killtask address threadname : kill a suspended thread",
		inject = "inject address luascript.lua [args...]",
		logon = "logon address",
		logoff = "logoff address",
		signal = "signal address sig",
		cmem = "Show C memory info",
		ping = "ping address",
		call = "call address args... : call the service with lua args",
		trace = "trace address [proto] [on|off]",
		netstat = "netstat : show netstat",
		dbgcmd = "dbgcmd address cmd args... : run a debug command",
		debug = "debug address : interactive Lua debugger for a service (cont to leave)",
		getenv = "getenv name",
		setenv = "setenv name value",
		nodes = "nodes : the cluster's nodes (id, name, address, state, incarnation, last heartbeat)",
		names = "names : global names and the node each lives on",
		links = "links : this node's links (frames, bytes, heartbeat round trip, failed calls)",
		cluster = "cluster : nodes, names and the links of every node with a console",
		metrics = "metrics : this node's metrics in the Prometheus text format",
		json = "json command ... : any command, answered as one JSON line",
		shutdown = "shutdown [reason] : drain this node (gates closed, shutdown hooks run) and stop it",
	}
end

function COMMAND.list()
	return skynet.call(".launcher", "lua", "LIST")
end

local function timeout(ti)
	if ti then
		ti = tonumber(ti)
		if ti and ti <= 0 then ti = nil end
	else
		ti = TIMEOUT
	end
	return ti
end

function COMMAND.stat(ti)
	return skynet.call(".launcher", "lua", "STAT", timeout(ti))
end

function COMMAND.mem(ti)
	return skynet.call(".launcher", "lua", "MEM", timeout(ti))
end

function COMMAND.gc(ti)
	return skynet.call(".launcher", "lua", "GC", timeout(ti))
end

function COMMAND.kill(address)
	return skynet.call(".launcher", "lua", "KILL", adjust_address(address))
end

function COMMAND.exit(address)
	skynet.send(adjust_address(address), "debug", "EXIT")
end

function COMMAND.start(...)
	local ok, addr = pcall(skynet.newservice, ...)
	if ok then
		if addr then
			return { [skynet.address(addr)] = table.concat({ ... }, " ") }
		end
		return "Exit"
	end
	return "Failed"
end

function COMMAND.log(...)
	local ok, addr = pcall(skynet.call, ".launcher", "lua", "LOGLAUNCH", "snlua", ...)
	if ok then
		if addr then
			return { [skynet.address(addr)] = table.concat({ ... }, " ") }
		end
		return "Failed"
	end
	return "Failed"
end

function COMMAND.clearcache()
	local cache = skynet.cache
	assert(cache and cache.clear, "no code cache")
	cache.clear()
end

function COMMAND.service()
	return skynet.call("SERVICE", "lua", "LIST")
end

function COMMAND.info(address, ...)
	return skynet.call(adjust_address(address), "debug", "INFO", ...)
end

function COMMAND.task(address)
	return skynet.call(adjust_address(address), "debug", "TASK")
end

function COMMAND.uniqtask(address)
	return skynet.call(adjust_address(address), "debug", "UNIQTASK")
end

function COMMAND.killtask(address, threadname)
	return skynet.call(adjust_address(address), "debug", "KILLTASK", threadname)
end

local function need_run(what)
	if not allow_run then
		error(what .. " runs Lua code in a service: disabled unless the config sets console_run = true", 0)
	end
end

function COMMAND.inject(address, filename, ...)
	need_run("inject")
	address = adjust_address(address)
	local f = assert(io.open(filename, "rb"), "Can't open " .. tostring(filename))
	local source = f:read "a"
	f:close()
	local ok, output = skynet.call(address, "debug", "RUN", source, filename, ...)
	if ok == false then
		error(output)
	end
	return output
end

function COMMAND.logon(address)
	core.command("LOGON", skynet.address(adjust_address(address)))
end

function COMMAND.logoff(address)
	core.command("LOGOFF", skynet.address(adjust_address(address)))
end

function COMMAND.signal(address, sig)
	address = skynet.address(adjust_address(address))
	if sig then
		core.command("SIGNAL", string.format("%s %d", address, tonumber(sig)))
	else
		core.command("SIGNAL", address)
	end
end

function COMMAND.cmem()
	local memory = require "skynet.memory"
	local info = memory.info()
	local result = {}
	for k, v in pairs(info) do
		result[skynet.address(k)] = v
	end
	result.total = memory.total()
	result.block = memory.block()
	return result
end

function COMMAND.ping(address)
	address = adjust_address(address)
	local ti = skynet.now()
	skynet.call(address, "debug", "PING")
	return tostring(skynet.now() - ti)
end

function COMMANDX.call(words)
	local line = words[1]
	local address, rest = string.match(line, "^%S+%s+(%S+)%s*(.*)$")
	address = adjust_address(address)
	local f = assert(load("return " .. rest, "=(call)", "t", {}))
	local rets = table.pack(skynet.call(address, "lua", f()))
	return rets
end

local function toboolean(x)
	return x and (x == "true" or x == "on")
end

function COMMAND.trace(address, proto, flag)
	address = adjust_address(address)
	if flag == nil then
		if proto == "on" or proto == "off" then
			proto = toboolean(proto)
		end
	else
		flag = toboolean(flag)
	end
	skynet.call(address, "debug", "TRACELOG", proto, flag)
end

local function human_bytes(n)
	if n == nil then return "" end
	if n < 1024 then return tostring(n) end
	if n < 1024 * 1024 then return string.format("%.1fK", n / 1024) end
	return string.format("%.1fM", n / 1024 / 1024)
end

local function human_time(cs)
	if not cs or cs == 0 then return "" end
	local now = skynet.now()
	return string.format("%.2fs", (now - cs) / 100)
end

function COMMAND.netstat()
	local stat = socket.netstat()
	for _, info in ipairs(stat) do
		info.address = info.address and skynet.address(info.address) or nil
		info.read = human_bytes(info.read)
		info.write = human_bytes(info.write)
		info.wbuffer = human_bytes(info.wbuffer)
		info.rtime = human_time(info.rtime)
		info.wtime = human_time(info.wtime)
	end
	return stat
end

function COMMAND.dbgcmd(address, cmd, ...)
	if CODE_DEBUG[string.upper(tostring(cmd))] then
		need_run("dbgcmd " .. tostring(cmd))
	end
	return skynet.call(adjust_address(address), "debug", cmd, ...)
end

function COMMAND.getenv(name)
	return { [name] = skynet.getenv(name) }
end

function COMMAND.setenv(name, value)
	skynet.setenv(name, value)
end

-- debug addr: this connection becomes the debugger's prompt until `cont`
function COMMANDX.debug(words)
	need_run("debug")
	return require("skynet.remotedebug").attach(words.fd, adjust_address(words[2]))
end

-- shutdown [reason]: drain this node (services/shutdownd.lua), as SIGTERM does
function COMMAND.shutdown(...)
	local reason = select("#", ...) > 0 and table.concat({ ... }, " ") or "console"
	return { state = skynet.call(".shutdown", "lua", "drain", reason) }
end

function COMMAND.jmem()
	error "Skiff does not use jemalloc"
end
COMMAND.profactive = COMMAND.jmem
COMMAND.dumpheap = COMMAND.jmem

-- snax NAME ARGS...: start a snax service (skynet.snax.newservice).
function COMMAND.snax(name, ...)
	local snax = require "skynet.snax"
	local obj = snax.newservice(assert(name, "snax needs a service name"), ...)
	return { [skynet.address(obj.handle)] = name }
end

-- ---- cluster view -------------------------------------------------------------

local function fmt_seconds(x)
	if x == nil then return "-" end
	if x < 1 then return string.format("%.1fms", x * 1000) end
	return string.format("%.2fs", x)
end

local function node_row(n)
	return {
		id = n.id, name = n.name, address = n.address, state = n.state,
		incarnation = n.incarnation, self = n.self,
		last_heartbeat = n.last_heartbeat,
	}
end

local function link_row(n)
	return {
		peer = n.id, state = n.state,
		frames_sent = n.frames_sent, bytes_sent = n.bytes_sent,
		frames_received = n.frames_received, bytes_received = n.bytes_received,
		rtt = n.rtt, calls_failed = n.calls_failed, queued = n.queued,
	}
end

local function nodes_of(st)
	local rows = json.array()
	for _, n in ipairs(st.nodes) do rows[#rows + 1] = node_row(n) end
	return rows
end

local function links_of(st)
	local rows = json.array()
	for i = 2, #st.nodes do rows[#rows + 1] = link_row(st.nodes[i]) end
	return rows
end

local function names_of(st)
	local rows = json.array()
	for _, n in ipairs(st.names) do rows[#rows + 1] = { name = n.name, handle = n.handle, node = n.node } end
	return rows
end

local function print_nodes(print, rows)
	print("id", "name", "address", "state", "incarnation", "last_heartbeat")
	for _, n in ipairs(rows) do
		print(n.id, n.name or "-", n.address or "-", n.state or "-", n.incarnation or "-",
			n.self and "self" or (n.last_heartbeat and fmt_seconds(n.last_heartbeat) .. " ago" or "-"))
	end
end

local function print_names(print, rows)
	print("name", "handle", "node")
	for _, n in ipairs(rows) do
		print(n.name, n.handle, n.node)
	end
end

local function print_links(print, rows)
	print("peer", "state", "frames_sent", "bytes_sent", "frames_received", "bytes_received",
		"rtt", "calls_failed", "queued")
	for _, l in ipairs(rows) do
		print(l.peer, l.state or "-", l.frames_sent or "-", l.bytes_sent or "-", l.frames_received or "-",
			l.bytes_received or "-", fmt_seconds(l.rtt), l.calls_failed or "-", l.queued or "-")
	end
end

local function status()
	local st = nodestatus.get()
	if not st.detail and st.mode == "harbor" then
		-- say so instead of showing an incomplete table as if it were whole
		st.note = "the harbor service did not answer STATUS: only this node is shown"
	end
	return st
end

function COMMAND.nodes()
	local st = status()
	return { nodes = nodes_of(st), note = st.note }
end

function COMMAND.names()
	local st = status()
	return { names = names_of(st), note = st.note }
end

function COMMAND.links()
	local st = status()
	return { node = st.harbor, links = links_of(st), note = st.note }
end

TEXT.nodes = function(print, r)
	if r.note then print("# " .. r.note) end
	print_nodes(print, r.nodes)
end

TEXT.names = function(print, r)
	if r.note then print("# " .. r.note) end
	print_names(print, r.names)
end

TEXT.links = function(print, r)
	if r.note then print("# " .. r.note) end
	print_links(print, r.links)
end

-- A call that gives up after ti centiseconds: ok, result.
local function call_timeout(ti, ...)
	local co = coroutine.running()
	local answered, ok, result = false, false, "timeout"
	local args = table.pack(...)
	skynet.fork(function()
		local cok, cresult = pcall(skynet.call, table.unpack(args, 1, args.n))
		if not answered then
			answered, ok, result = true, cok, cresult
			skynet.wakeup(co)
		end
	end)
	skynet.timeout(ti, function()
		if not answered then
			answered = true
			skynet.wakeup(co)
		end
	end)
	skynet.wait(co)
	return ok, result
end

local function console_name(id)
	return "skiffcon" .. tostring(id)
end

function COMMAND.cluster()
	local st = status()
	local r = {
		mode = st.mode, node = st.harbor, detail = st.detail, note = st.note,
		master = st.master,
		nodes = nodes_of(st), names = names_of(st),
		links = json.array({ { node = st.harbor, links = links_of(st) } }),
	}
	if st.mode == "harbor" then
		local where = {}
		for _, n in ipairs(st.names) do where[n.name] = n.handle end
		for i = 2, #st.nodes do
			local peer = st.nodes[i]
			local handle = where[console_name(peer.id)]
			local entry = { node = peer.id }
			if peer.state ~= "up" then
				entry.error = "node is " .. tostring(peer.state)
			elseif not handle then
				entry.error = "no console on that node"
			else
				local ok, remote = call_timeout(REMOTE_TIMEOUT, tonumber(string.sub(handle, 2), 16), "lua", "STATUS")
				if ok and type(remote) == "table" then
					entry.links = links_of(remote)
				else
					entry.error = "no answer: " .. tostring(remote)
				end
			end
			r.links[#r.links + 1] = entry
		end
	end
	return r
end

TEXT.cluster = function(print, r)
	print(string.format("cluster mode %s, seen from node %d", r.mode, r.node))
	if r.note then print("# " .. r.note) end
	if r.master then print("master", r.master.state or "-", r.master.address or "-") end
	print("")
	print("[nodes]")
	print_nodes(print, r.nodes)
	print("")
	print("[names]")
	print_names(print, r.names)
	for _, l in ipairs(r.links) do
		print("")
		print(string.format("[links of node %s]", tostring(l.node)))
		if l.error then
			print("# " .. l.error)
		else
			print_links(print, l.links)
		end
	end
end

local local_metrics -- a collector of our own when the node has no metrics service

function COMMAND.metrics()
	if skynet.localname ".metrics" then
		local ok, text = pcall(skynet.call, ".metrics", "lua", "TEXT")
		if ok then return text end
	end
	if not local_metrics then
		local_metrics = require("skynet.nodemetrics").new()
	end
	return local_metrics:render()
end

TEXT.metrics = function(print, text)
	for line in string.gmatch(text, "[^\n]+") do print(line) end
end

-- The token and the run switch from the config; raises a one-line reason.
local function load_settings()
	local path = skynet.getenv "console_token"
	if not path or path == "" then
		error("debug console not started: set console_token to a file (mode 0600) holding an access token of at least "
			.. TOKEN_MIN .. " characters", 0)
	end
	local t, err = secretfile.read(path)
	if not t then
		error("debug console not started: " .. err, 0)
	end
	if #t < TOKEN_MIN or string.find(t, "%s") then
		error(string.format("debug console not started: token file %s: the token must be at least %d characters with no white space",
			path, TOKEN_MIN), 0)
	end
	token = t
	allow_run = skynet.getenv "console_run" == "true"
	for name in string.gmatch(skynet.getenv "console_hosts" or "", "[^%s,]+") do
		extra_hosts[string.lower(name)] = true
	end
end

skynet.start(function()
	local ok, err = pcall(load_settings)
	if not ok then
		skynet.error(err) -- said once, without a traceback: it is the operator's to fix
		skynet.exit()
		return
	end
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "STATUS" then
			skynet.ret(skynet.pack(nodestatus.get()))
		else
			error("debug_console: unknown command " .. tostring(cmd))
		end
	end)
	local harbor_id = tonumber(skynet.getenv "harbor" or 0) or 0
	if harbor_id ~= 0 then
		require("skynet.harbor").globalname(console_name(harbor_id))
	end
	local listen_id, bound_ip
	listen_id, bound_ip, bound_port = socket.listen(ip, port)
	bound_port = tonumber(bound_port) or port
	skynet.error(string.format("Start debug console at %s:%s", tostring(bound_ip or ip), tostring(bound_port)))
	socket.start(listen_id, function(id, addr)
		skynet.fork(console_main_loop, id, addr)
	end)
end)
