-- skynet.debug — the "debug" protocol (PTYPE 9) every Lua service answers
-- (spec §4.12).  skynet.lua calls init() once, handing over the internals the
-- commands need; other modules may add commands with reg_debugcmd.
local M = {}

local extern_cmd = {}

function M.reg_debugcmd(name, fn)
	extern_cmd[name] = fn
end

function M.init(skynet, export)
	local dbgcmd = {}
	local info_func = nil
	local gc_running = false

	function skynet.info_func(fn)
		info_func = fn
	end

	function dbgcmd.MEM()
		skynet.ret(skynet.pack(collectgarbage "count"))
	end

	function dbgcmd.GC()
		skynet.ignoreret()
		if gc_running then return end
		gc_running = true
		local before = collectgarbage "count"
		local t0 = os.clock()
		collectgarbage "collect"
		skynet.error(string.format("GC %.2f Kb -> %.2f Kb, cost %.2f sec",
			before, collectgarbage "count", os.clock() - t0))
		gc_running = false
	end

	function dbgcmd.STAT()
		skynet.ret(skynet.pack {
			task = skynet.task(),
			mqlen = skynet.stat "mqlen",
			cpu = skynet.stat "cpu",
			message = skynet.stat "message",
		})
	end

	function dbgcmd.TASK(session)
		if session then
			skynet.ret(skynet.pack(skynet.task(session)))
		else
			local t = {}
			skynet.task(t)
			skynet.ret(skynet.pack(t))
		end
	end

	function dbgcmd.UNIQTASK()
		skynet.ret(skynet.pack(skynet.uniqtask()))
	end

	function dbgcmd.KILLTASK(name)
		local co = skynet.killthread(name)
		if co then
			skynet.error(string.format("Kill %s", co))
			skynet.ret(skynet.pack(tostring(co)))
		else
			skynet.ret(skynet.pack("Not found"))
		end
	end

	function dbgcmd.INFO(...)
		if info_func then
			skynet.ret(skynet.pack(info_func(...)))
		else
			skynet.ret(skynet.pack(nil))
		end
	end

	function dbgcmd.EXIT()
		skynet.exit()
	end

	function dbgcmd.RUN(source, filename, ...)
		local inject = require "skynet.inject"
		local args = table.pack(...)
		local ok, output = inject(skynet, source, filename, args, export.dispatch, skynet.register_protocol)
		collectgarbage "collect"
		skynet.ret(skynet.pack(ok, table.concat(output, "\n")))
	end

	function dbgcmd.TERM(address)
		skynet.term(address)
		skynet.ret()
	end

	-- Attach the interactive debugger (skynet.remotedebug): `fd` is the
	-- console socket to write to, `handle` the id of the skynet.debugchannel
	-- the console feeds.  Answered when the session ends.
	function dbgcmd.REMOTEDEBUG(fd, handle)
		require("skynet.remotedebug").start(skynet, fd, handle)
	end

	function dbgcmd.SUPPORT(pname)
		skynet.ret(skynet.pack(skynet.dispatch(pname) ~= nil))
	end

	function dbgcmd.PING()
		skynet.ret()
	end

	local links = {}
	function dbgcmd.LINK()
		-- never answered: the caller learns of our exit when this fails
		links[#links + 1] = skynet.response()
	end

	function dbgcmd.TRACELOG(proto, flag)
		if type(proto) ~= "string" then
			flag = proto
			proto = "lua"
		end
		skynet.error(string.format("Turn trace log %s for %s", tostring(flag), proto))
		skynet.traceproto(proto, flag)
		skynet.ret()
	end

	local function dispatch(session, address, cmd, ...)
		local f = dbgcmd[cmd]
		if f then
			return f(...)
		end
		f = extern_cmd[cmd]
		if f then
			return f(...)
		end
		skynet.ret(skynet.pack(nil, "Unknown debug command " .. tostring(cmd)))
	end

	skynet.register_protocol {
		name = "debug",
		id = assert(skynet.PTYPE_DEBUG),
		pack = assert(skynet.pack),
		unpack = assert(skynet.unpack),
		dispatch = dispatch,
	}
end

return M
