-- debug_console — the admin console's transport: TCP (line protocol and
-- HTTP), authentication, and the Unix socket.  The commands are a table of
-- their own (skynet.console.commands) filled by command modules: MODULES
-- below (one line each), then those named in the config key
-- `console_modules` (comma-separated module names on lua_path).
-- Args: `[ip] port`; ip defaults to 127.0.0.1 (never all interfaces unless
-- asked); port 0 picks a free port.  The bound address is logged as
-- "Start debug console at IP:PORT".
--
-- Whoever speaks to the console can stop, start and inspect every service of
-- the node, so it is authenticated and refuses browsers (docs/console.md):
--  * config `console_token`: path of a file holding the access token (at
--    least 16 characters), mode 0600 or 0400, a regular file; without it, or
--    with a file group or others may read, the TCP console does not start and
--    says why.
--  * line protocol: the first line must be `auth <token>` (answered by
--    "<CMD OK>"); anything else gets "<CMD Error>" and the connection closes.
--    A connection that has not authenticated within AUTH_TIMEOUT is closed.
--  * HTTP (first line a request line): one request per connection, answered
--    and closed; judged by skynet.console.gate (token, Host, Origin, GET only
--    for read-only commands, POST of application/x-skiff-command) before
--    anything runs.  The answer is the command's text (200) or its error
--    (500), without the line protocol's terminator; `json` commands answer
--    the JSON document alone.
--  * config `console_unix = path`: the console also listens on a Unix socket
--    created with mode 0600 (before it accepts anything), so only the node's
--    user (and root) can connect; no token is asked there.  A stale socket
--    left by an earlier run is replaced; any other file at that path is not.
--    It starts even without console_token.
--  * `inject`, `debug`, and `dbgcmd` RUN / INJECT / REMOTEDEBUG run Lua code
--    chosen by the operator inside a service: off unless `console_run = true`.
--
-- In harbor mode the console registers the global name skiffcon<id> and
-- answers the "lua" requests command modules declare (commands.remote:
-- STATUS for the `cluster` view, LOAD for the `overview`), which is how one
-- node's console shows every node.
local skynet = require "skynet"
local socket = require "skynet.socket"
local secretfile = require "skynet.secretfile"
local sockethelper = require "http.sockethelper"
local admin = require "http.admin"
local commands = require "skynet.console.commands"
local gate = require "skynet.console.gate"
require "skynet.manager"

-- The command modules, one line each (docs/console.md, "Adding commands").
local MODULES = {
	"skynet.console.classic",
	"skynet.console.cluster",
	"skynet.console.overview",
	"skynet.console.reload",
}

local args = table.pack(...)
local ip = args.n >= 2 and args[1] or "127.0.0.1"
local port = tonumber(args[args.n]) or 0

local AUTH_TIMEOUT = 1000    -- cs to authenticate (line protocol) or send a whole request (HTTP)
local AUTH_FAIL_DELAY = 20   -- cs before a refusal is answered: slows guessing
local LINE_MAX = 8192        -- bytes of an unauthenticated line, or of an HTTP head

-- The dashboard (docs/console.md): static files from console_web/ beside
-- this file, read once at start, served to GET / and /ui/<name>.
local WEB_FILES = { ["index.html"] = "text/html; charset=utf-8", ["app.js"] = "text/javascript; charset=utf-8",
	["style.css"] = "text/css; charset=utf-8" }
local WEB = {}         -- name -> { ctype, body }
local web_missing      -- why the dashboard is not served, or nil
-- The page may load only itself: no external assets, no framing, no forms
-- posting elsewhere; its scripts may talk only to this console.
local STATIC_HEADER = {
	["content-security-policy"] = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
		.. "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	["x-content-type-options"] = "nosniff",
	["referrer-policy"] = "no-referrer",
	["cache-control"] = "no-store",
}

local token            -- the access token, read at start (nil: TCP console off)
local bound_port       -- the port Host headers must name
local extra_hosts = {} -- config console_hosts: more names a Host header may give

local function answer(fd, status, ctype, body, header)
	admin.respond(sockethelper.writefunc(fd), status, ctype, body, { header = header })
end

-- One HTTP exchange: the command comes from the path (GET) or the body (POST).
-- passed() is called once the request is let in and whole (the command may
-- take longer than AUTH_TIMEOUT; the request itself may not).
local function http_exchange(fd, first, addr, passed, local_socket)
	local readbytes = sockethelper.readfunc(fd, first .. "\n")
	local rok, req, status, reason = pcall(admin.read_request, readbytes, LINE_MAX)
	if not rok then
		return -- the peer left (or AUTH_TIMEOUT shut it) before a whole head: nothing to answer
	end
	local line, file
	if req then
		status, line, file = gate.verdict(req, {
			token = token, equal = secretfile.equal, port = bound_port, hosts = extra_hosts,
			readonly = commands.readonly, known = function(name) return commands.get(name) ~= nil end,
			local_socket = local_socket,
		})
		reason = line
	end
	if file then
		passed()
		local content = WEB[file]
		if not content then
			answer(fd, 404, "text/plain", (web_missing or ("no dashboard file " .. file)) .. "\n")
		else
			answer(fd, 200, content.ctype, content.body, STATIC_HEADER)
		end
		return
	end
	if status ~= 200 then
		if status == 401 then skynet.sleep(AUTH_FAIL_DELAY) end
		skynet.error(string.format("debug console: refused HTTP %s from %s: %d %s",
			tostring(req and req.method), tostring(addr), status, reason))
		answer(fd, status, "text/plain", reason .. "\n",
			status == 401 and { ["www-authenticate"] = "Bearer" } or nil)
		return
	end
	if line == nil then
		socket.limit(fd, nil)
		rok, line, status, reason = pcall(admin.read_body, readbytes, req, gate.BODY_MAX)
		if not rok then
			return -- the peer left before the whole body
		end
		if not line then
			answer(fd, status, "text/plain", reason .. "\n")
			return
		end
	end
	passed()
	local out = {}
	local function print(...)
		local n = select("#", ...)
		local parts = {}
		for i = 1, n do parts[i] = tostring((select(i, ...))) end
		out[#out + 1] = table.concat(parts, "\t")
	end
	local ok, result, as_json, spec = commands.execute(line, fd)
	commands.render(print, ok, result, as_json, spec)
	local body = #out > 0 and table.concat(out, "\n") .. "\n" or ""
	answer(fd, ok and 200 or 500, as_json and "application/json" or "text/plain; charset=utf-8", body)
end

local function console_main_loop(fd, addr, local_socket)
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
	local function welcome()
		authenticated = true
		socket.limit(fd, nil)
		print("Welcome to skiff console")
		print("<CMD OK>")
	end
	local ok, err = pcall(function()
		local line = socket.readline(fd, "\n")
		if not line then return end
		if string.match(line, "^%u+ %S+ HTTP/") then
			http_exchange(fd, line, addr, function() authenticated = true end, local_socket)
			return
		end
		line = string.gsub(line, "\r$", "")
		if local_socket then
			welcome() -- the socket file's mode let this peer in
		else
			local given = string.match(line, "^auth +(%S+) *$")
			if not given or not secretfile.equal(token, given) then
				skynet.sleep(AUTH_FAIL_DELAY)
				skynet.error(string.format("debug console: authentication failed from %s", addr))
				print("authentication required: the first line must be auth <token>")
				print("<CMD Error>")
				return
			end
			welcome()
			line = nil
		end
		while true do
			if line and line ~= "" then
				local cok, result, as_json, spec = commands.execute(line, fd)
				commands.render(print, cok, result, as_json, spec)
				print(cok and "<CMD OK>" or "<CMD Error>")
			end
			line = socket.readline(fd, "\n")
			if not line then break end
			line = string.gsub(line, "\r$", "")
		end
	end)
	if not ok then
		skynet.error(fd, err)
	end
	skynet.error(addr, "disconnected")
	socket.close(fd)
end

-- The token, the run switch and the extra Host names from the config.
-- Returns nil, reason when the TCP console cannot start.
local function load_settings()
	commands.settings.run = skynet.getenv "console_run" == "true"
	for name in string.gmatch(skynet.getenv "console_hosts" or "", "[^%s,]+") do
		extra_hosts[string.lower(name)] = true
	end
	local path = skynet.getenv "console_token"
	if not path or path == "" then
		return nil, "debug console not started: set console_token to a file (mode 0600) holding an access token of at least "
			.. admin.TOKEN_MIN .. " characters"
	end
	local t, err = admin.read_token(path)
	if not t then
		return nil, "debug console not started: " .. err
	end
	token = t
	return true
end

local function load_web()
	local dir = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
	dir = dir .. "console_web/"
	for name, ctype in pairs(WEB_FILES) do
		local f = io.open(dir .. name, "rb")
		if not f then
			web_missing = "dashboard not installed: " .. dir .. name .. " is missing"
			skynet.error("debug console: " .. web_missing)
			WEB = {}
			return
		end
		WEB[name] = { ctype = ctype, body = f:read "a" }
		f:close()
	end
end

local function load_modules()
	for _, name in ipairs(MODULES) do
		commands.load(name)
	end
	for name in string.gmatch(skynet.getenv "console_modules" or "", "[^%s,]+") do
		commands.load(name)
	end
end

local function listen_unix(path)
	local id = socket.listen_unix(path)
	skynet.error(string.format("Start debug console at unix:%s", path))
	socket.start(id, function(fd, addr)
		skynet.fork(console_main_loop, fd, tostring(addr), true)
	end)
end

skynet.start(function()
	local tcp_ok, why = load_settings()
	local unix_path = skynet.getenv "console_unix"
	if unix_path == "" then unix_path = nil end
	if not tcp_ok then
		if unix_path then
			why = string.gsub(why, "^debug console not started", "debug console: TCP port not opened")
		end
		skynet.error(why) -- said once, without a traceback: it is the operator's to fix
		if not unix_path then
			skynet.exit()
			return
		end
	end
	load_modules()
	load_web()
	-- requests of other nodes' consoles (commands.remote: STATUS, LOAD, ...)
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = commands.remote_handler(cmd)
		if not f then
			error("debug_console: unknown command " .. tostring(cmd))
		end
		skynet.ret(skynet.pack(f(...)))
	end)
	local harbor_id = tonumber(skynet.getenv "harbor" or 0) or 0
	if harbor_id ~= 0 then
		require("skynet.harbor").globalname(commands.console_name(harbor_id))
	end
	if unix_path then
		local ok, err = pcall(listen_unix, unix_path)
		if not ok then
			skynet.error(string.format("debug console: cannot listen on unix:%s: %s", unix_path, tostring(err)))
		end
	end
	if tcp_ok then
		local listen_id, bound_ip
		listen_id, bound_ip, bound_port = socket.listen(ip, port)
		bound_port = tonumber(bound_port) or port
		skynet.error(string.format("Start debug console at %s:%s", tostring(bound_ip or ip), tostring(bound_port)))
		socket.start(listen_id, function(id, addr)
			skynet.fork(console_main_loop, id, addr, false)
		end)
	end
end)
