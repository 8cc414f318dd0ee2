-- skynet.console.classic — the debug console's classic commands, those of
-- skynet's debug_console: list, stat, mem, gc, kill, exit, start, log, info,
-- task, inject, call, trace, netstat, dbgcmd, debug, getenv/setenv, ...
-- A command module of skynet.console.commands (see there for the format).
--
-- Addresses: ":0000000a" (a full handle), "a" (hex, on this node) or
-- ".name" (a local name).  Commands that run operator-chosen Lua code in a
-- service (inject, debug, dbgcmd RUN / INJECT / REMOTEDEBUG) need
-- `console_run = true` in the config (commands.need_run).
local skynet = require "skynet"
local core = require "skynet.core"
local socket = require "skynet.socket"
local commands = require "skynet.console.commands"

local TIMEOUT = 300 -- cs, default for stat/mem/gc

-- Debug commands that run Lua code chosen by the operator in the target.
local CODE_DEBUG = { RUN = true, INJECT = true, REMOTEDEBUG = true }

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

local function timeout(ti)
	if ti then
		ti = tonumber(ti)
		if ti and ti <= 0 then ti = nil end
	else
		ti = TIMEOUT
	end
	return ti
end

local function toboolean(x)
	return x and (x == "true" or x == "on")
end

local function human_bytes(n)
	if n == nil then return "" end
	if n < 1024 then return tostring(n) end
	if n < 1024 * 1024 then return string.format("%.1fK", n / 1024) end
	return string.format("%.1fM", n / 1024 / 1024)
end

local function human_time(cs)
	if not cs or cs == 0 then return "" end
	return string.format("%.2fs", (skynet.now() - cs) / 100)
end

local function no_jemalloc()
	error "Skiff does not use jemalloc"
end

local C = {}

C.help = { help = "This help message", readonly = true, run = function() return commands.help() end }

C.list = { help = "List all the service", readonly = true,
	run = function() return skynet.call(".launcher", "lua", "LIST") end }

C.stat = { help = "Dump all stats: stat [timeout]", readonly = true,
	run = function(ti) return skynet.call(".launcher", "lua", "STAT", timeout(ti)) end }

C.mem = { help = "mem [timeout] : show memory status", readonly = true,
	run = function(ti) return skynet.call(".launcher", "lua", "MEM", timeout(ti)) end }

C.gc = { help = "gc [timeout] : force every lua service do garbage collect",
	run = function(ti) return skynet.call(".launcher", "lua", "GC", timeout(ti)) end }

C.kill = { help = "kill address : kill service",
	run = function(address) return skynet.call(".launcher", "lua", "KILL", adjust_address(address)) end }

C.exit = { help = "exit address : kill a lua service",
	run = function(address) skynet.send(adjust_address(address), "debug", "EXIT") end }

C.start = { help = "lanuch a new lua service", run = function(...)
	local ok, addr = pcall(skynet.newservice, ...)
	if ok then
		if addr then
			return { [skynet.address(addr)] = table.concat({ ... }, " ") }
		end
		return "Exit"
	end
	return "Failed"
end }

C.log = { help = "launch a new lua service with log", run = function(...)
	local ok, addr = pcall(skynet.call, ".launcher", "lua", "LOGLAUNCH", "snlua", ...)
	if ok and addr then
		return { [skynet.address(addr)] = table.concat({ ... }, " ") }
	end
	return "Failed"
end }

C.shutdown = { help = "shutdown [reason] : drain this node (gates closed, shutdown hooks run) and stop it",
	run = function(...)
		local reason = select("#", ...) > 0 and table.concat({ ... }, " ") or "console"
		return { state = skynet.call(".shutdown", "lua", "drain", reason) }
	end }

C.service = { help = "List unique service", readonly = true,
	run = function() return skynet.call("SERVICE", "lua", "LIST") end }

C.info = { help = "info address ... : get service infomation",
	run = function(address, ...) return skynet.call(adjust_address(address), "debug", "INFO", ...) end }

C.task = { help = "task address : show service task detail", readonly = true,
	run = function(address) return skynet.call(adjust_address(address), "debug", "TASK") end }

C.uniqtask = { help = "task address : show service unique task detail", readonly = true,
	run = function(address) return skynet.call(adjust_address(address), "debug", "UNIQTASK") end }

C.killtask = { help = "killtask address threadname : kill a suspended thread",
	run = function(address, threadname)
		return skynet.call(adjust_address(address), "debug", "KILLTASK", threadname)
	end }

C.inject = { help = "inject address luascript.lua [args...]", run = function(address, filename, ...)
	commands.need_run("inject")
	address = adjust_address(address)
	local f = assert(io.open(filename, "rb"), "Can't open " .. tostring(filename))
	local source = f:read "a"
	f:close()
	local ok, output = skynet.call(address, "debug", "RUN", source, filename, ...)
	if ok == false then
		error(output)
	end
	return output
end }

C.logon = { help = "logon address",
	run = function(address) core.command("LOGON", skynet.address(adjust_address(address))) end }

C.logoff = { help = "logoff address",
	run = function(address) core.command("LOGOFF", skynet.address(adjust_address(address))) end }

C.signal = { help = "signal address sig", run = function(address, sig)
	address = skynet.address(adjust_address(address))
	if sig then
		core.command("SIGNAL", string.format("%s %d", address, tonumber(sig)))
	else
		core.command("SIGNAL", address)
	end
end }

C.cmem = { help = "Show C memory info", readonly = true, run = function()
	local memory = require "skynet.memory"
	local result = {}
	for k, v in pairs(memory.info()) do
		result[skynet.address(k)] = v
	end
	result.total = memory.total()
	result.block = memory.block()
	return result
end }

C.ping = { help = "ping address", readonly = true, run = function(address)
	address = adjust_address(address)
	local ti = skynet.now()
	skynet.call(address, "debug", "PING")
	return tostring(skynet.now() - ti)
end }

-- call addr args...: the arguments are Lua values, evaluated with no globals
C.call = { help = "call address args... : call the service with lua args", raw = true, run = function(req)
	local address, rest = string.match(req.line, "^%S+%s+(%S+)%s*(.*)$")
	address = adjust_address(address)
	local f = assert(load("return " .. rest, "=(call)", "t", {}))
	return table.pack(skynet.call(address, "lua", f()))
end }

C.trace = { help = "trace address [proto] [on|off]", run = function(address, proto, flag)
	address = adjust_address(address)
	if flag == nil then
		if proto == "on" or proto == "off" then
			proto = toboolean(proto)
		end
	else
		flag = toboolean(flag)
	end
	skynet.call(address, "debug", "TRACELOG", proto, flag)
end }

C.netstat = { help = "netstat : show netstat", readonly = true, run = function()
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
end }

C.dbgcmd = { help = "dbgcmd address cmd args... : run a debug command", run = function(address, cmd, ...)
	if CODE_DEBUG[string.upper(tostring(cmd))] then
		commands.need_run("dbgcmd " .. tostring(cmd))
	end
	return skynet.call(adjust_address(address), "debug", cmd, ...)
end }

C.getenv = { help = "getenv name", readonly = true,
	run = function(name) return { [name] = skynet.getenv(name) } end }

C.setenv = { help = "setenv name value", run = function(name, value) skynet.setenv(name, value) end }

-- debug addr: this connection becomes the debugger's prompt until `cont`
C.debug = { help = "debug address : interactive Lua debugger for a service (cont to leave)", raw = true,
	run = function(req)
		commands.need_run("debug")
		return require("skynet.remotedebug").attach(req.fd, adjust_address(req.words[2]))
	end }

C.jmem = { help = "jmem : not available (Skiff does not use jemalloc)", run = no_jemalloc }
C.profactive = { help = "profactive : not available (Skiff does not use jemalloc)", run = no_jemalloc }
C.dumpheap = { help = "dumpheap : not available (Skiff does not use jemalloc)", run = no_jemalloc }

-- snax NAME ARGS...: start a snax service (skynet.snax.newservice).
C.snax = { help = "snax name args... : start a snax service", run = function(name, ...)
	local snax = require "skynet.snax"
	local obj = snax.newservice(assert(name, "snax needs a service name"), ...)
	return { [skynet.address(obj.handle)] = name }
end }

return C
