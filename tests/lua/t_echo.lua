-- t_echo — a helper service for the Lua tests: each "lua" request names a
-- command below.  Commands return their reply values; NORET means the command
-- answered (or chose not to) by itself.
local skynet = require "skynet"
require "skynet.manager"

local NORET = {}
local cmd = {}
local store = {}
local held = {}

function cmd.echo(...) return ... end
function cmd.set(k, v) store[k] = v return NORET end
function cmd.get(k) return store[k] end
function cmd.error(msg) error(msg) end
function cmd.sleep(ti, ...) skynet.sleep(ti) return ... end
function cmd.exit() skynet.exit() end
function cmd.context() return skynet.context() end
function cmd.self() return skynet.self() end
function cmd.tracetag() return skynet.tracetag() end
function cmd.call(addr, ...) return skynet.call(addr, "lua", ...) end

-- keep the reply closure: answered by `release`, or never
function cmd.hold(key)
	held[key or "default"] = skynet.response()
	return NORET
end

function cmd.release(key, ...)
	local r = held[key or "default"]
	return r("TEST"), r(true, ...)
end

function cmd.pending(key)
	local r = held[key or "default"]
	if r == nil then return nil end
	return r("TEST")
end

function cmd.holdstatus(key)
	local r = held[key or "default"]
	local pending = r("TEST")
	local sent = r(true, "late")
	return pending, sent
end

-- answer after ti centiseconds from another thread
function cmd.later(ti, ...)
	local r = skynet.response()
	local n = select("#", ...)
	local args = { ... }
	skynet.timeout(ti, function() r(true, table.unpack(args, 1, n)) end)
	return NORET
end

function cmd.fail_later(ti)
	local r = skynet.response()
	skynet.timeout(ti, function() r(false) end)
	return NORET
end

-- answer twice: the second use must raise
function cmd.twice()
	local r = skynet.response()
	local first = r(true, "first")
	local ok, err = pcall(r, true, "second")
	store.twice = { first, ok, err }
	return NORET
end

function cmd.doubleret()
	local first = skynet.ret(skynet.pack("once"))
	local ok, err = pcall(skynet.ret, skynet.pack("twice"))
	store.doubleret = { first, ok, err }
	return NORET
end

-- reached through skynet.send: there is no session to answer
function cmd.ret_nosession()
	store.ret_nosession = { skynet.ret(skynet.pack("dropped")) }
	return NORET
end

-- forward this request to `addr`, whose reply then goes to our caller
function cmd.forward(addr, ...)
	local session, source = skynet.context()
	skynet.ignoreret()
	skynet.redirect(addr, source, "lua", session, skynet.pack("echo", ...))
	return NORET
end

-- call addr in a background thread, hold on to nothing
function cmd.callhold(addr, key)
	skynet.fork(function()
		pcall(skynet.call, addr, "lua", "hold", key)
	end)
	return true
end

function cmd.loop()
	local n = 0
	while true do n = n + 1 end
end

function cmd.endless()
	return skynet.endless()
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, c, ...)
		local f = cmd[c]
		if f == nil then error("t_echo: unknown command " .. tostring(c)) end
		local function reply(...)
			if select("#", ...) > 0 and (...) == NORET then return end
			skynet.retpack(...)
		end
		reply(f(...))
	end)
	skynet.info_func(function(...) return { info = "t_echo", args = { ... } } end)
end)
