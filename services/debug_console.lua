-- debug_console — the admin console over TCP (spec §5.3).
-- Args: `[ip] port`; ip defaults to 127.0.0.1 (never all interfaces unless
-- asked); port 0 picks a free port.  The bound address is logged as
-- "Start debug console at IP:PORT".
--
-- Line protocol: one command per line, words separated by spaces; the answer
-- is tab-separated lines ended by "<CMD OK>" or "<CMD Error>".  A connection
-- whose first line is an HTTP request (GET /cmd/arg..., or POST with the
-- command line as body) gets one plain-text HTTP answer and is closed.
local skynet = require "skynet"
local core = require "skynet.core"
local socket = require "skynet.socket"
require "skynet.manager"

local args = table.pack(...)
local ip = args.n >= 2 and args[1] or "127.0.0.1"
local port = tonumber(args[args.n]) or 0
local TIMEOUT = 300 -- cs, for stat/mem/gc

local COMMAND = {}   -- name -> function(args...)
local COMMANDX = {}  -- name -> function(words{ [1] = whole line, fd = socket })

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

local function docmd(line, print, fd)
	local words = split_words(line)
	local name = words[1]
	local ok, result
	local f = COMMAND[name]
	if f then
		ok, result = pcall(f, table.unpack(words, 2))
	else
		f = COMMANDX[name]
		if f then
			words.fd = fd
			words[1] = line
			ok, result = pcall(f, words)
		else
			ok, result = false, "Invalid command, type help for command list"
		end
	end
	if ok then
		if result ~= nil then
			if type(result) == "table" then
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
end

local function url_decode(s)
	s = string.gsub(s, "+", " ")
	return (string.gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- One HTTP exchange: the command comes from the path or the body.
local function http_exchange(fd, request_line)
	local method, path = string.match(request_line, "^(%u+)%s+(%S+)")
	local length = 0
	while true do
		local header = socket.readline(fd, "\n")
		if not header then return end
		header = string.gsub(header, "\r$", "")
		if header == "" then break end
		local n = string.match(string.lower(header), "^content%-length:%s*(%d+)")
		if n then length = tonumber(n) end
	end
	local line
	if method == "POST" then
		line = length > 0 and socket.read(fd, length) or ""
		if not line then return end
	else
		local words = {}
		for seg in string.gmatch(path or "", "[^/]+") do
			words[#words + 1] = url_decode(seg)
		end
		line = table.concat(words, " ")
	end
	local out = {}
	local function print(...)
		local n = select("#", ...)
		local parts = {}
		for i = 1, n do parts[i] = tostring((select(i, ...))) end
		out[#out + 1] = table.concat(parts, "\t")
	end
	docmd(line, print, fd)
	local body = table.concat(out, "\n") .. "\n"
	socket.write(fd, string.format(
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		#body, body))
end

local function console_main_loop(fd, addr)
	local function print(...)
		local n = select("#", ...)
		local parts = {}
		for i = 1, n do parts[i] = tostring((select(i, ...))) end
		socket.write(fd, table.concat(parts, "\t") .. "\n")
	end
	socket.start(fd)
	skynet.error(addr, "connected")
	local ok, err = pcall(function()
		local first = true
		while true do
			local line = socket.readline(fd, "\n")
			if not line then break end
			line = string.gsub(line, "\r$", "")
			if first then
				first = false
				if string.match(line, "^GET ") or string.match(line, "^POST ") then
					http_exchange(fd, line)
					break
				end
				print("Welcome to skiff console")
			end
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
		getenv = "getenv name",
		setenv = "setenv name value",
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

function COMMAND.inject(address, filename, ...)
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
	return skynet.call(adjust_address(address), "debug", cmd, ...)
end

function COMMAND.getenv(name)
	return { [name] = skynet.getenv(name) }
end

function COMMAND.setenv(name, value)
	skynet.setenv(name, value)
end

function COMMAND.debug()
	error "The remote debugger is not available in Skiff"
end

function COMMAND.jmem()
	error "Skiff does not use jemalloc"
end
COMMAND.profactive = COMMAND.jmem
COMMAND.dumpheap = COMMAND.jmem

function COMMAND.snax()
	error "snax is not supported by Skiff"
end

skynet.start(function()
	local listen_id, bound_ip, bound_port = socket.listen(ip, port)
	skynet.error(string.format("Start debug console at %s:%s", tostring(bound_ip or ip), tostring(bound_port or port)))
	socket.start(listen_id, function(id, addr)
		skynet.fork(console_main_loop, id, addr)
	end)
end)
