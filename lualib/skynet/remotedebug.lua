-- skynet.remotedebug — the interactive remote debugger
-- (the console's `debug addr`, through the REMOTEDEBUG protocol).  Stock Lua 5.4 only: debug hooks,
-- debug.getlocal/setlocal/getupvalue/setupvalue and `load` with an env.
--
-- Two halves live here:
--  * attach(fd, address) runs in debug_console for `debug addr`.  It reads
--    the operator's lines from the console socket, puts each into a
--    skynet.debugchannel and rings the target with a debug PING, until the
--    operator types `cont` or hangs up.  It returns when the target answers
--    REMOTEDEBUG, which the target does when the session ends.
--  * start(skynet, fd, id) runs in the target's REMOTEDEBUG handler.  The
--    target reads the lines, runs them, and writes its output straight to
--    the console socket (any service may write to any socket id), so the
--    console never relays output.
--
-- The target is always in one of two states:
--  * running: every request passes through a wrapper around its protocol's
--    dispatch function.  The wrapper forks a poll of the channel, which runs
--    once the request yields or returns, so debugger input is handled between
--    messages and the service keeps serving.  Input runs against the
--    service's globals (then the upvalues of its dispatch functions).
--  * stopped: a debug hook decided to stop inside a request handler.  The
--    hook blocks the service's worker thread in chan:read() (which is why the
--    channel is thread-safe C) and runs input against the stopped frame:
--    locals, then upvalues, then its _ENV.  `c`, `s`, `n`, `f` or `cont`
--    resume the request.
-- Hooks are per coroutine: the wrapper sets ours on the handler's coroutine
-- when a watch or a breakpoint is armed, and clears it when the handler
-- returns (a handler that yields keeps its hook while it is suspended).  A
-- hook that fires after the session ended removes itself.
--
-- Wire (console socket, written by the target): free text lines, and a
-- prompt without a newline after each command: "rdb :0000000a> " when
-- running, "rdb :0000000a (stopped)> " when stopped.
local driver = require "skynet.socketdriver"

local getinfo, getlocal, setlocal = debug.getinfo, debug.getlocal, debug.setlocal
local getupvalue, setupvalue = debug.getupvalue, debug.setupvalue
local sethook, traceback = debug.sethook, debug.traceback
local running = coroutine.running
local tostring, type, select, pcall, load = tostring, type, select, pcall, load
local string_format, table_concat = string.format, table.concat

local M = {}

-- The line that ends a session; both halves must agree on it.
function M.is_cont(line)
	return string.match(line, "^%s*cont%s*$") ~= nil
end

---------------------------------------------------------------------------
-- Target side

local SELF = getinfo(1, "S").source

local S = nil          -- the session: { skynet, chan, fd, resp, name, stopped, saved_print, print }
local breakpoints = {} -- function -> how the operator named it
local watch = nil      -- true: stop in the next request; a name: the next request of that protocol
local step = nil       -- { co, mode = "in"|"over"|"out", depth }: how a resumed request stops again
local entering = setmetatable({}, { __mode = "k" }) -- co -> function whose first line stops it
local hooked = setmetatable({}, { __mode = "k" })   -- co -> true while a wrapper has hooked it
local wrapped = {}     -- protocol class -> { orig, wrapper }
local polling = false
local hook             -- forward: the debug hook function

local HELP = [[
Commands (anything else is Lua, run in the service; `=` is optional for expressions):
  watch [proto]  stop at the first line of the next request (of that protocol)
  break EXPR     stop whenever the function EXPR is called by a request; `break` lists
  clear          remove every breakpoint and the watch
  bt             traceback of the stopped request
  locals         locals of the stopped frame
  c              continue the stopped request
  s / n / f      step into / step over / finish the current function
  cont           leave the debugger (continues a stopped request)
]]

local function out(text)
	if S then driver.send(S.fd, text) end
end

local function tostr_list(n, ...)
	local parts = {}
	for i = 1, n do parts[i] = tostring((select(i, ...))) end
	return table_concat(parts, "\t")
end

local function prompt()
	if S then
		out(string_format(S.stopped and "rdb %s (stopped)> " or "rdb %s> ", S.name))
	end
end

-- The stopped frame's level as seen by the caller of this function: the
-- hooked function sits right above the hook function in the stack.  (Level
-- k here is level k - 1 for the caller; the hook's level k - 1 there means
-- the stopped frame is at k.)
local function stopped_level()
	local level = 2
	while true do
		local info = getinfo(level, "f")
		if info == nil then return nil end
		if info.func == hook then return level end
		level = level + 1
	end
end

-- Where `name` lives for code run in the stopped frame: returns kind
-- ("local" | "upvalue" | "global"), a locator and the value.
local function resolve(name)
	local level = stopped_level()
	local index, value
	local i = 1
	while true do
		local n, v = getlocal(level, i)
		if n == nil then break end
		if n == name then index, value = i, v end -- the innermost one wins
		i = i + 1
	end
	if index then return "local", index, value end
	local f = getinfo(level, "f").func
	local env = nil
	i = 1
	while true do
		local n, v = getupvalue(f, i)
		if n == nil then break end
		if n == name then return "upvalue", i, v end
		if n == "_ENV" then env = v end
		i = i + 1
	end
	env = env or _G
	return "global", env, env[name]
end

-- The environment for code run while stopped.
local function frame_env()
	return setmetatable({}, {
		__index = function(_, k)
			local _, _, v = resolve(k)
			return v
		end,
		__newindex = function(_, k, v)
			local kind, where = resolve(k)
			if kind == "local" then
				setlocal(stopped_level(), where, v)
			elseif kind == "upvalue" then
				setupvalue(getinfo(stopped_level(), "f").func, where, v)
			else
				where[k] = v
			end
		end,
	})
end

-- An upvalue named `name` of the dispatch functions we wrap ("lua" first):
-- services usually keep their command table in one.
local function dispatch_upvalue(name)
	local order = {}
	local lua = S and S.skynet._proto.lua
	if lua and wrapped[lua] then order[1] = wrapped[lua].orig end
	for _, w in pairs(wrapped) do order[#order + 1] = w.orig end
	for _, f in ipairs(order) do
		local i = 1
		while true do
			local n, v = getupvalue(f, i)
			if n == nil then break end
			if n == name then return f, i, v end
			i = i + 1
		end
	end
end

-- The environment for code run while the service is running: its globals,
-- then the upvalues of its dispatch functions.
local running_env = setmetatable({}, {
	__index = function(_, k)
		local v = _G[k]
		if v == nil then
			local _, _, uv = dispatch_upvalue(k)
			return uv
		end
		return v
	end,
	__newindex = function(_, k, v)
		if _G[k] == nil then
			local f, i = dispatch_upvalue(k)
			if f then
				setupvalue(f, i, v)
				return
			end
		end
		_G[k] = v
	end,
})

-- Compile `src` as an expression, else as a statement block.
local function compile(src, env)
	src = string.gsub(src, "^%s*=", "", 1)
	local f = load("return " .. src, "=(debug)", "t", env)
	if f then return f end
	return load(src, "=(debug)", "t", env)
end

local function eval(src)
	local f, err = compile(src, S.stopped and frame_env() or running_env)
	if not f then
		out(tostring(err) .. "\n")
		return
	end
	local r = table.pack(pcall(f))
	if not r[1] then
		out("error: " .. tostring(r[2]) .. "\n")
	elseif r.n > 1 then
		out(tostr_list(r.n - 1, table.unpack(r, 2, r.n)) .. "\n")
	end
end

local function detach(reason)
	local s = S
	if not s then return end
	S = nil
	watch, step, breakpoints = nil, nil, {}
	for p, w in pairs(wrapped) do
		if p.dispatch == w.wrapper then p.dispatch = w.orig end
	end
	wrapped = {}
	if _G.print == s.print then _G.print = s.saved_print end
	driver.send(s.fd, "debugger detached" .. (reason and (": " .. reason) or "") .. "\n")
	s.chan:close()
	pcall(s.resp, true)
end

local function list_breakpoints()
	local n = 0
	for _, what in pairs(breakpoints) do
		n = n + 1
		out("break " .. what .. "\n")
	end
	if watch then out("watch " .. (watch == true and "(any request)" or watch) .. "\n") end
	if n == 0 and not watch then out("no breakpoints\n") end
end

local function show_locals()
	local level = stopped_level()
	local i = 1
	while true do
		local n, v = getlocal(level, i)
		if n == nil then break end
		if string.sub(n, 1, 1) ~= "(" then
			out(n .. " = " .. tostring(v) .. "\n")
		end
		i = i + 1
	end
end

local STEP_MODE = { s = "in", n = "over", f = "out" }

-- Run one line of input; true means: resume the stopped request.
local function command(line)
	local word, rest = string.match(line, "^%s*(%S*)%s*(.-)%s*$")
	local stopped = S.stopped
	if word == "" then return end
	if rest == "" then
		if word == "cont" then
			detach()
			return true
		elseif word == "help" then
			out(HELP)
			return
		elseif word == "c" or STEP_MODE[word] then
			if not stopped then
				out("not stopped\n")
				return
			end
			if word == "c" then
				step = nil
			else
				step = { co = stopped.co, mode = STEP_MODE[word], depth = stopped.depth }
			end
			return true
		elseif word == "bt" or word == "locals" then
			if not stopped then
				out("not stopped\n")
			elseif word == "bt" then
				out(traceback("stopped request", stopped_level()) .. "\n")
			else
				show_locals()
			end
			return
		elseif word == "watch" then
			watch = true
			out("will stop in the next request\n")
			return
		elseif word == "break" then
			list_breakpoints()
			return
		elseif word == "clear" then
			breakpoints, watch = {}, nil
			out("breakpoints cleared\n")
			return
		end
	elseif word == "watch" and string.match(rest, "^[%w_]+$") then
		if not S.skynet._proto[rest] then
			out("no protocol " .. rest .. "\n")
		else
			watch = rest
			out("will stop in the next " .. rest .. " request\n")
		end
		return
	elseif word == "break" then
		local f, err = compile(rest, stopped and frame_env() or running_env)
		local ok, fn = false, err
		if f then ok, fn = pcall(f) end
		if not ok then
			out("break: " .. tostring(fn) .. "\n")
		elseif type(fn) ~= "function" then
			out("break: " .. rest .. " is a " .. type(fn) .. ", not a function\n")
		else
			breakpoints[fn] = rest
			out("breakpoint on " .. rest .. "\n")
		end
		return
	end
	eval(line)
end

-- Blocks the worker thread until the operator resumes the request.
local function stop(co, reason, depth)
	if S.single_worker then
		out("\nnot stopping (" .. reason .. "): the node has one worker thread and would hang\n")
		prompt()
		return
	end
	local info = getinfo(3, "Sln") -- 1 stop, 2 hook, 3 the stopped function
	out(string_format("\nstopped (%s) at %s:%d%s\n", reason, info.short_src, info.currentline,
		info.name and (" in " .. info.name) or ""))
	S.stopped = { co = co, depth = depth }
	prompt()
	while S do
		local line = S.chan:read()
		if line == false then
			detach("console gone")
			return
		end
		local ok, resume = pcall(command, line)
		if not ok then out("error: " .. tostring(resume) .. "\n") end
		if resume then break end
		prompt()
	end
	if S then
		S.stopped = nil
		if step == nil then prompt() end
	end
end

-- Number of frames on the running coroutine's stack, counted from the
-- caller's caller; only ever called straight from `hook`, so depths compare.
local function depth()
	local n = 2
	while getinfo(n + 1, "l") do n = n + 1 end
	return n
end

function hook(event)
	if S == nil then
		sethook() -- the session ended: this coroutine stops paying for hooks
		return
	end
	local info = getinfo(2, "Sf")
	if info.source == SELF then return end
	local co = running()
	if event ~= "line" then -- "call" or "tail call"
		if breakpoints[info.func] and not entering[co] then entering[co] = info.func end
		return
	end
	local reason
	local target = entering[co]
	if target == info.func then
		entering[co] = nil
		reason = breakpoints[target] and ("break " .. breakpoints[target]) or "watch"
	elseif step and step.co == co then
		if step.mode == "in" then
			reason = "step"
		else
			local d = depth()
			if d < step.depth or (step.mode == "over" and d == step.depth) then
				reason = "step"
			end
		end
	elseif target == nil and not hooked[co] and next(breakpoints) == nil then
		sethook() -- a coroutine that inherited our hook and has nothing to do
		return
	end
	if reason then
		step = nil
		stop(co, reason, depth())
	end
end

-- Called from a wrapper when its request returns.
local function unhook(co, ...)
	if hooked[co] then
		hooked[co] = nil
		entering[co] = nil
		sethook()
		if step and step.co == co then
			step = nil
			out("\nrequest finished\n")
			prompt()
		end
	end
	return ...
end

local poll_later

local function wrapper_for(p, orig)
	local function wrapper(...)
		if S == nil then return orig(...) end
		poll_later()
		local co = running()
		local stop_here = false
		if watch and p.name ~= "debug" and p.name ~= "error" and (watch == true or watch == p.name) then
			watch = nil
			entering[co] = orig
			stop_here = true
		end
		if stop_here or next(breakpoints) then
			hooked[co] = true
			sethook(hook, "cl")
			return unhook(co, orig(...))
		end
		return orig(...)
	end
	return wrapper
end

-- Wrap every protocol's dispatch function, picking up protocols registered
-- (or dispatchers replaced) since the last look.
local function wrap_all()
	for k, p in pairs(S.skynet._proto) do
		if type(k) == "number" and type(p.dispatch) == "function" then
			local w = wrapped[p]
			if w == nil or p.dispatch ~= w.wrapper then
				w = { orig = p.dispatch }
				w.wrapper = wrapper_for(p, w.orig)
				wrapped[p] = w
				p.dispatch = w.wrapper
			end
		end
	end
end

-- Drain the channel in a thread of its own: input may block (skynet.call).
local function poll()
	while S do
		wrap_all()
		local line = S.chan:read(0)
		if line == nil then break end
		if line == false then
			detach("console gone")
			break
		end
		local ok, err = pcall(command, line)
		if not ok then out("error: " .. tostring(err) .. "\n") end
		prompt()
	end
	polling = false
end

function poll_later()
	if not polling then
		polling = true
		S.skynet.fork(poll)
	end
end

-- REMOTEDEBUG fd, id: attach to the console socket `fd` through debug
-- channel `id`.  The request is answered when the session ends: `true`, or
-- `false, why` at once if it cannot start.
function M.start(skynet, fd, id)
	if S then
		skynet.ret(skynet.pack(false, "already being debugged"))
		return
	end
	local chan = require("skynet.debugchannel").connect(id)
	local name = skynet.address(skynet.self())
	S = {
		skynet = skynet,
		chan = chan,
		fd = fd,
		name = name,
		resp = skynet.response(),
		single_worker = tonumber(skynet.getenv "thread") == 1,
		saved_print = _G.print,
	}
	S.print = function(...)
		out(tostr_list(select("#", ...), ...) .. "\n")
	end
	_G.print = S.print
	wrap_all()
	out(string_format("attached to %s; type help for commands, cont to leave\n", name))
	prompt()
	poll_later()
end

---------------------------------------------------------------------------
-- Console side

local DETACH_WAIT = 300 -- cs the console waits for the target to let go
local attached = {}     -- address -> true while this console debugs it

-- Run the `debug addr` session on console connection `fd` (its reader is
-- ours until we return).  Raises if the session ends abnormally.
function M.attach(fd, address)
	local skynet = require "skynet"
	local socket = require "skynet.socket"
	local debugchannel = require "skynet.debugchannel"
	assert(address ~= skynet.self(), "the console cannot debug itself")
	assert(not attached[address], "already debugging " .. skynet.address(address))
	attached[address] = true
	local chan, id = debugchannel.create()
	local st = { done = false, reading = false }
	local token = {}
	skynet.fork(function()
		st.result = table.pack(pcall(skynet.call, address, "debug", "REMOTEDEBUG", fd, id))
		st.done = true
		if st.reading then
			-- the console is blocked reading the operator's next line
			socket.write(fd, "\ndebug session ended; press Enter\n")
		else
			skynet.wakeup(token)
		end
	end)
	local function forward()
		while not st.done do
			st.reading = true
			local line = socket.readline(fd, "\n")
			st.reading = false
			if st.done then break end
			line = line and string.gsub(line, "\r$", "") or "cont" -- hang-up: let the target go
			chan:write(line)
			skynet.send(address, "debug", "PING") -- the doorbell: makes the target poll
			if M.is_cont(line) then break end
		end
		if not st.done then skynet.sleep(DETACH_WAIT, token) end
	end
	local ok, err = pcall(forward)
	st.reading = false
	chan:close() -- a target still attached detaches at its next poll
	attached[address] = nil
	if not ok then error(err, 0) end
	local r = st.result
	if r == nil then
		error("the target did not let go within " .. DETACH_WAIT .. " cs")
	elseif not r[1] then
		error("debug " .. skynet.address(address) .. ": " .. tostring(r[2]))
	elseif r[2] == false then
		error(tostring(r[3]))
	end
end

return M
