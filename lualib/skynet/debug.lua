-- skynet.debug — the "debug" protocol (PTYPE 9) every Lua service answers.
-- skynet.lua registers the protocol with a loading dispatcher and calls init()
-- on the first debug message (most services never get one, and this module
-- and its closures cost each service about 10 KiB), handing over the
-- internals the commands need; other modules may add commands with
-- reg_debugcmd at any time.
local M = {}

local extern_cmd = {}

function M.reg_debugcmd(name, fn)
	extern_cmd[name] = fn
end

function M.init(skynet, export)
	local dbgcmd = {}
	local info_func = export.info_func -- () -> the function set by skynet.info_func
	local gc_running = false

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
		local f = info_func()
		if f then
			skynet.ret(skynet.pack(f(...)))
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

	-- hot reload (skynet.reload, loaded on first use): re-require modules,
	-- or run the main file again in place
	function dbgcmd.RELOAD(...)
		require("skynet.reload").debug_reload(skynet, ...)
	end

	function dbgcmd.RESTART(...)
		require("skynet.reload").debug_restart(skynet, ...)
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

	return dispatch
end

return M
