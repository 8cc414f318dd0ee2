-- skynet.lua — the Lua API of a Skiff service.
--
-- Scheduler invariants (everything below relies on them):
--  * Every request (non-response message with a dispatcher) runs in its own
--    coroutine, taken from a pool and given back when the handler returns.
--  * `running_thread` is the skynet thread (a pooled coroutine, never a
--    skynet.coroutine child) that the framework resumed last.  Sessions are
--    registered against it, so a blocking call from a skynet.coroutine child
--    suspends the whole skynet thread.
--  * session_id_coroutine[s] is the thread waiting for session s, or "BREAK"
--    when nobody waits any more and the late reply must be swallowed.
--  * request_session[co] is the session `co` still owes a reply to (0: the
--    sender wants none); it becomes nil once answered.  request_source[co] is
--    the requester, kept until the handler finishes.
--  * A thread yields to the framework with "SUSPEND" (blocked, or back in the
--    pool), "QUIT" (skynet.exit) or "USER" (a skynet.coroutine yield that
--    escaped its resume: an error).
--  * Wakeups and failures of waiting sessions are queued and resumed one at a
--    time after the current thread yields, in FIFO order.
local c = require "skynet.core"

local tostring, tonumber, type, assert, error = tostring, tonumber, type, assert, error
local pairs, select, pcall, xpcall, setmetatable = pairs, select, pcall, xpcall, setmetatable
local string_format = string.format
local table_concat, table_unpack, table_pack = table.concat, table.unpack, table.pack
local traceback = debug.traceback
-- snlua installs a profiling coroutine.resume before any service code runs.
local coroutine_resume = coroutine.resume
local coroutine_yield = coroutine.yield
local coroutine_create = coroutine.create
local coroutine_running = coroutine.running
local coroutine_close = coroutine.close

local c_send = c.send
local c_pack = c.pack

-- <const>: folded into the code, no upvalue to load on the message path
local PTYPE_RESPONSE <const> = 1
local PTYPE_ERROR <const> = 7
local PTYPE_TRACE <const> = 12

local skynet = {
	PTYPE_TEXT = 0,
	PTYPE_RESPONSE = 1,
	PTYPE_MULTICAST = 2,
	PTYPE_CLIENT = 3,
	PTYPE_SYSTEM = 4,
	PTYPE_HARBOR = 5,
	PTYPE_SOCKET = 6,
	PTYPE_ERROR = 7,
	PTYPE_QUEUE = 8,
	PTYPE_DEBUG = 9,
	PTYPE_LUA = 10,
	PTYPE_SNAX = 11,
	PTYPE_TRACE = 12,
}

do -- the code cache module is optional: a build without it still runs services
	local ok, cache = pcall(require, "skynet.codecache")
	skynet.cache = ok and cache or nil
end

---------------------------------------------------------------------------
-- Protocols

local proto = {}
skynet._proto = proto

-- false until this service first meets tracing (skynet.trace/traceproto, a
-- protocol class with a trace field, a PTYPE_TRACE message); until then
-- thread_tracetag and trace_source (below) are empty and every protocol's trace
-- flag is nil, so the message path skips them.  Never goes back to false.
local tracing = false

function skynet.register_protocol(class)
	local name, id = class.name, class.id
	assert(type(name) == "string", "protocol name must be a string")
	assert(math.type(id) == "integer" and id >= 0 and id <= 255, "protocol id must be 0..255")
	assert(proto[name] == nil and proto[id] == nil, "protocol name or id already registered")
	if class.trace ~= nil then tracing = true end
	proto[name] = class
	proto[id] = class
end

---------------------------------------------------------------------------
-- Scheduler state

local running_thread = nil
local init_thread = nil

local session_id_coroutine = {}
local request_session = {}
local request_source = {}
local thread_tracetag = {}   -- thread -> trace tag of the request chain it serves
local trace_source = {}      -- source -> tag announced by a PTYPE_TRACE for its next request
local unresponse = {}        -- pending response closure -> requester address
local sleep_session = {}     -- wakeup token -> session the sleeper waits on
local watching_session = {}  -- session of an outstanding call -> callee address
local timeout_traceback = nil -- thread -> creation traceback (skynet.trace_timeout)

-- FIFO of tokens to wake and of sessions to fail; drained after each yield.
local wakeup_queue, wakeup_head, wakeup_tail = {}, 1, 0
local error_queue, error_head, error_tail = {}, 1, 0
local error_reason = {}  -- session -> why its call failed (a PTYPE_ERROR payload), if told
-- true whenever either queue holds an entry (set by every push, cleared when
-- dispatch_pending has drained both): one upvalue for the message path to test
local pending = false

-- Forked threads not started yet; `false` marks a slot emptied by killthread.
local fork_queue, fork_head, fork_tail = {}, 1, 0

---------------------------------------------------------------------------
-- Session rewind protection.
-- The C side hands out sessions 1..0x7fffffff and wraps.  Waits that outlive a
-- wrap (a long sleep, a `wait`, a call to a slow service) would then share their
-- session with a new request.  All sessions of this service are allocated by the
-- calls below, so `last_session` tracks the C counter; every session in
-- (last_session, safe_until] is known to be free.  When we pass safe_until we
-- burn used sessions with genid and compute the next free stretch.  Outstanding
-- sessions are always <= the last one allocated until a wrap, so the scan runs
-- about once per wrap in practice.
local SESSION_MAX <const> = 0x7fffffff
local last_session = 0
local safe_until = 0

local function session_guard()
	local n = last_session + 1
	if n > SESSION_MAX then n = 1 end
	while session_id_coroutine[n] ~= nil do
		-- burn the session in use; the C counter then points past it
		local s = c.genid()
		if s ~= n then n = s end  -- we lost track of the counter: resynchronise
		last_session = n
		n = n + 1
		if n > SESSION_MAX then n = 1 end
	end
	-- the nearest outstanding session ahead of n (circularly) bounds the stretch
	local gap = SESSION_MAX
	for s in pairs(session_id_coroutine) do
		local d = s - n
		if d < 0 then d = d + SESSION_MAX end
		if d < gap then gap = d end
	end
	local limit = n + gap - 1
	if limit > SESSION_MAX then limit = SESSION_MAX end
	safe_until = limit
end

---------------------------------------------------------------------------
-- Coroutine pool
--
-- Every pooled thread runs thread_main.  A parked thread sits in the yield at
-- its end; resuming it with (f, ...) runs f(...) in it, so a request costs one
-- resume.  Threads that start later (fork, timeout, select collectors) are
-- primed with wait_args, which parks them again until their first resume.

local coroutine_pool = {}
local pool_size = 0

local function forgot_response(co, f)
	local session = request_session[co]
	if session ~= 0 then
		local info = debug.getinfo(f, "S")
		c.error(string_format("Maybe forgot response session %s from %s : %s:%d",
			session, skynet.address(request_source[co]), info.source, info.linedefined))
	end
end

local function thread_main(f, ...)
	f(...)
	-- running_thread is this thread: every resume site sets it first
	local co = running_thread
	if request_session[co] ~= nil then
		forgot_response(co, f)
		request_session[co] = nil
	end
	request_source[co] = nil
	if tracing then
		local tag = thread_tracetag[co]
		if tag ~= nil then
			if tag then c.trace(tag, "end") end
			thread_tracetag[co] = nil
		end
	end
	pool_size = pool_size + 1
	coroutine_pool[pool_size] = co
	return thread_main(coroutine_yield "SUSPEND")
end

local function co_take()
	local co = coroutine_pool[pool_size]
	if co then
		coroutine_pool[pool_size] = nil
		pool_size = pool_size - 1
		return co
	end
	return coroutine_create(thread_main)
end

local function wait_args(f)
	return f(coroutine_yield())
end

-- A thread that runs f with the values of its first resume.
local function co_create(f)
	local co = co_take()
	local saved = running_thread
	running_thread = co
	coroutine_resume(co, wait_args, f)
	running_thread = saved
	return co
end

---------------------------------------------------------------------------
-- Resuming threads

local suspend

-- Resume the next queued failure or wakeup, if any (tail calls back into suspend).
local function dispatch_pending()
	while error_head <= error_tail do
		local session = error_queue[error_head]
		error_queue[error_head] = nil
		error_head = error_head + 1
		local co = session_id_coroutine[session]
		local reason = error_reason[session]
		error_reason[session] = nil
		if co == "BREAK" then
			session_id_coroutine[session] = nil
		elseif co then
			session_id_coroutine[session] = nil
			running_thread = co
			return suspend(co, coroutine_resume(co, false, reason, nil, session))
		end
	end
	while wakeup_head <= wakeup_tail do
		local token = wakeup_queue[wakeup_head]
		wakeup_queue[wakeup_head] = nil
		wakeup_head = wakeup_head + 1
		local session = sleep_session[token]
		if session then
			local co = session_id_coroutine[session]
			-- a sleeper's timer reply may still come: swallow it
			session_id_coroutine[session] = "BREAK"
			running_thread = co
			return suspend(co, coroutine_resume(co, false, "BREAK", nil, session))
		end
	end
	error_head, error_tail = 1, 0
	wakeup_head, wakeup_tail = 1, 0
	pending = false
end

function suspend(co, ok, command)
	if ok and command == "SUSPEND" then
		return dispatch_pending()
	end
	if not ok then
		-- the thread died: whoever waited for its answer gets an error
		local session = request_session[co]
		if session then
			if session ~= 0 then
				c_send(request_source[co], PTYPE_ERROR, session, "")
			end
			request_session[co] = nil
		end
		request_source[co] = nil
		if thread_tracetag[co] then
			c.trace(thread_tracetag[co], "error")
			thread_tracetag[co] = nil
		end
		-- close its pending to-be-closed variables with the error, as
		-- skynet does (a `<close>` lock guard must not stay held)
		local tb = traceback(co, tostring(command))
		coroutine_close(co)
		error(tb, 0)
	end
	if command == "QUIT" then
		-- skynet.exit: the service is gone, nothing more runs
		return
	elseif command == "USER" then
		error("Call skynet.coroutine.yield out of skynet.coroutine.resume\n" .. traceback(co))
	elseif command == nil then
		-- a bare yield (the remote debugger): leave the thread parked
		return
	else
		error("Unknown command : " .. tostring(command) .. "\n" .. traceback(co))
	end
end

---------------------------------------------------------------------------
-- Waiting

local function suspend_sleep(session, token)
	local tag = tracing and thread_tracetag[running_thread]
	if tag then c.trace(tag, "sleep", 3) end
	session_id_coroutine[session] = running_thread
	assert(sleep_session[token] == nil, "token duplicative")
	sleep_session[token] = session
	return coroutine_yield "SUSPEND"
end

local function new_timeout(ti)
	if last_session >= safe_until then session_guard() end
	local session = c.timeout(ti)
	assert(session, "timeout failed")
	last_session = session
	return session
end

function skynet.timeout(ti, func)
	local session = new_timeout(ti)
	local co
	if timeout_traceback then
		-- the creation trace describes the thread only until it starts
		co = co_create(function()
			if timeout_traceback then timeout_traceback[co] = nil end
			return func()
		end)
	else
		co = co_create(func)
	end
	assert(session_id_coroutine[session] == nil)
	session_id_coroutine[session] = co
	if timeout_traceback then
		-- "TIMER <now>+<ti> : " then where it was set, as skynet.task shows it
		timeout_traceback[co] = traceback(string.format("TIMER %d+%d : ", skynet.now(), ti), 2)
	end
	return co
end

function skynet.trace_timeout(on)
	if on then
		timeout_traceback = timeout_traceback or setmetatable({}, { __mode = "k" })
	else
		timeout_traceback = nil
	end
end

function skynet.sleep(ti, token)
	local session = new_timeout(ti)
	token = token or coroutine_running()
	local ok, ret = suspend_sleep(session, token)
	sleep_session[token] = nil
	if ok then return end
	if ret == "BREAK" then return "BREAK" end
	error(ret)
end

function skynet.yield()
	return skynet.sleep(0)
end

function skynet.wait(token)
	if last_session >= safe_until then session_guard() end
	local session = c.genid()
	last_session = session
	token = token or coroutine_running()
	suspend_sleep(session, token)
	-- nothing else will ever arrive on a genid session
	sleep_session[token] = nil
	session_id_coroutine[session] = nil
end

function skynet.wakeup(token)
	if sleep_session[token] then
		wakeup_tail = wakeup_tail + 1
		wakeup_queue[wakeup_tail] = token
		pending = true
		return true
	end
	return false
end

function skynet.fork(func, ...)
	local n = select("#", ...)
	local co
	if n == 0 then
		co = co_create(func)
	else
		local args = { ... }
		co = co_create(function() func(table_unpack(args, 1, n)) end)
	end
	fork_tail = fork_tail + 1
	fork_queue[fork_tail] = co
	return co
end

---------------------------------------------------------------------------
-- Addresses, time, environment

local self_handle
function skynet.self()
	if not self_handle then self_handle = c.addresscommand "REG" end
	return self_handle
end

function skynet.address(addr)
	if type(addr) == "number" then
		return string_format(":%08x", addr)
	end
	return tostring(addr)
end

skynet.harbor = c.harbor
skynet.now = c.now
skynet.hpc = c.hpc

local start_time
function skynet.starttime()
	if not start_time then start_time = c.intcommand "STARTTIME" end
	return start_time
end

function skynet.time()
	return c.now() / 100 + (start_time or skynet.starttime())
end

function skynet.getenv(key)
	return (c.command("GETENV", key))
end

function skynet.genid()
	if last_session >= safe_until then session_guard() end
	local session = c.genid()
	last_session = session
	return session
end

skynet.pack = c.pack
skynet.packstring = c.packstring
skynet.unpack = c.unpack
skynet.tostring = c.tostring
skynet.trash = c.trash
skynet.error = c.error
skynet.tracelog = c.trace
skynet.pcall = pcall -- kept for old services

---------------------------------------------------------------------------
-- Sending

function skynet.send(addr, typename, ...)
	local p = proto[typename]
	return c_send(addr, p.id, 0, p.pack(...))
end

-- Send a request and wait for its response: skynet.call, rawcall and
-- tracecall.  The message path of most services, kept to one Lua frame (see
-- raw_dispatch_message on cold states).  The callee is told the trace tag
-- `tag` (tracecall) or, without it, the running thread's own tag if it has one.
local function request(addr, p, msg, sz, tag)
	if tag then
		c_send(addr, PTYPE_TRACE, 0, tag)
	elseif tracing then
		tag = thread_tracetag[running_thread]
		if tag then
			c.trace(tag, "call", 3) -- the line that called skynet.call/rawcall
			c_send(addr, PTYPE_TRACE, 0, tag)
		end
	end
	if last_session >= safe_until then session_guard() end
	local session = c_send(addr, p.id, nil, msg, sz)
	if not session then
		if session == false then
			error("message to " .. skynet.address(addr) .. " is too large")
		end
		error("call to invalid address " .. skynet.address(addr))
	end
	last_session = session
	watching_session[session] = addr
	session_id_coroutine[session] = running_thread
	local ok
	ok, msg, sz = coroutine_yield "SUSPEND"
	watching_session[session] = nil
	if not ok then
		tag = tracing and thread_tracetag[running_thread]
		if tag then c.trace(tag, "error") end
		-- a failure that came with a reason (the harbor's, the cluster's) says why
		error(type(msg) == "string" and ("call failed: " .. msg) or "call failed")
	end
	return msg, sz
end

function skynet.call(addr, typename, ...)
	local p = proto[typename]
	return p.unpack(request(addr, p, p.pack(...)))
end

function skynet.rawcall(addr, typename, msg, sz)
	-- not a tail call: the trace names the line that called rawcall, two frames up
	local rmsg, rsz = request(addr, proto[typename], msg, sz)
	return rmsg, rsz
end

---------------------------------------------------------------------------
-- Replying

local function ret(msg, sz)
	msg = msg or ""
	local co = running_thread
	local session = request_session[co]
	if session == nil then error "No session" end
	request_session[co] = nil
	if session == 0 then
		if sz ~= nil then c.trash(msg, sz) end
		return false
	end
	if tracing then
		local tag = thread_tracetag[co]
		if tag then c.trace(tag, "response") end
	end
	local source = request_source[co]
	local ret = c_send(source, PTYPE_RESPONSE, session, msg, sz)
	if ret then return true end
	if ret == false then
		-- too large to deliver: the caller must not wait forever
		c_send(source, PTYPE_ERROR, session, "")
	end
	return false
end

skynet.ret = ret

function skynet.retpack(...)
	return ret(c_pack(...))
end

function skynet.ignoreret()
	request_session[running_thread] = nil
end

---------------------------------------------------------------------------
-- Incoming messages

local function unknown_request(session, address, msg, sz, prototype)
	c.error(string_format("Unknown request (%s): %s", prototype, c.tostring(msg, sz)))
	error(string_format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_request(unknown)
	local prev = unknown_request
	unknown_request = unknown
	return prev
end

local function unknown_response(session, address, msg, sz)
	c.error(string_format("Response message : %s", c.tostring(msg, sz)))
	error(string_format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_response(unknown)
	local prev = unknown_response
	unknown_response = unknown
	return prev
end

-- The message path.  It runs once per message in services whose state is
-- often cold in the CPU's caches (a fan-out wakes a thousand of them), and a
-- cold state pays a cache miss for every function, table and upvalue it
-- touches; so the common cases below take no detour through co_take, suspend
-- (a thread that parked with no wakeup or failure queued leaves it nothing to
-- do) or the tracing tables.
local function raw_dispatch_message(prototype, msg, sz, session, source)
	local ok, command
	if prototype == PTYPE_RESPONSE then
		local co = session_id_coroutine[session]
		if co == "BREAK" then
			session_id_coroutine[session] = nil
			return
		elseif co == nil then
			unknown_response(session, source, msg, sz)
			return
		end
		if tracing then
			local tag = thread_tracetag[co]
			if tag then c.trace(tag, "resume") end
		end
		session_id_coroutine[session] = nil
		running_thread = co
		ok, command = coroutine_resume(co, true, msg, sz, session)
		if ok and command == "SUSPEND" and not pending then
			return
		end
		return suspend(co, ok, command)
	end
	local p = proto[prototype]
	local f = p and p.dispatch
	if f == nil then
		if prototype == PTYPE_TRACE then
			tracing = true
			trace_source[source] = c.tostring(msg, sz)
		elseif session ~= 0 then
			c_send(source, PTYPE_ERROR, session, "")
		else
			unknown_request(session, source, msg, sz, prototype)
		end
		return
	end
	-- co_take, inlined
	local co = coroutine_pool[pool_size]
	if co then
		coroutine_pool[pool_size] = nil
		pool_size = pool_size - 1
	else
		co = coroutine_create(thread_main)
	end
	request_session[co] = session
	request_source[co] = source
	if tracing then
		local traceflag = p.trace
		if traceflag == false then
			trace_source[source] = nil
			thread_tracetag[co] = false
		else
			local tag = trace_source[source]
			if tag then
				trace_source[source] = nil
				c.trace(tag, "request")
				thread_tracetag[co] = tag
			elseif traceflag then
				running_thread = co
				skynet.trace()
			end
		end
	end
	running_thread = co
	ok, command = coroutine_resume(co, f, session, source, p.unpack(msg, sz))
	if ok and command == "SUSPEND" and not pending then
		return
	end
	return suspend(co, ok, command)
end

function skynet.dispatch_message(prototype, msg, sz, session, source)
	local ok, err = pcall(raw_dispatch_message, prototype, msg, sz, session, source)
	-- forked threads run after the handler, in order, within this dispatch
	while fork_head <= fork_tail do
		local key = fork_head
		local co = fork_queue[key]
		fork_queue[key] = nil
		fork_head = key + 1
		if co then
			running_thread = co
			local fork_ok, fork_err = true, nil
			local rok, command = coroutine_resume(co)
			if not rok or command ~= "SUSPEND" or pending then
				fork_ok, fork_err = pcall(suspend, co, rok, command)
			end
			if not fork_ok then
				if ok then
					ok, err = false, tostring(fork_err)
				else
					err = tostring(err) .. "\n" .. tostring(fork_err)
				end
			end
		end
	end
	fork_head, fork_tail = 1, 0
	if not ok then error(tostring(err), 0) end
end

function skynet.dispatch(typename, func)
	local p = proto[typename]
	if func then
		local prev = p.dispatch
		p.dispatch = func
		return prev
	end
	return p and p.dispatch
end

-- PTYPE_ERROR: a failed call (session ~= 0) or a dead service (session 0).
local function queue_error(session, reason)
	error_tail = error_tail + 1
	error_queue[error_tail] = session
	error_reason[session] = reason
	pending = true
end

local function handle_error(error_session, error_source, reason)
	if error_session == 0 then
		-- the source is dead: drop what we owe it, fail what we wait from it
		for resp, address in pairs(unresponse) do
			if address == error_source then unresponse[resp] = nil end
		end
		for session, address in pairs(watching_session) do
			if address == error_source then queue_error(session) end
		end
	else
		if watching_session[error_session] or session_id_coroutine[error_session] == "BREAK" then
			queue_error(error_session, reason)
		end
	end
end

local function error_dispatch(error_session, error_source, msg, sz)
	skynet.ignoreret()
	local reason = sz and sz > 0 and c.tostring(msg, sz) or nil
	handle_error(error_session, error_source, reason)
end

---------------------------------------------------------------------------
-- Inspection

function skynet.memlimit(bytes)
	-- snlua reads this registry key once, after the main chunk returns
	debug.getregistry().memlimit = bytes
	skynet.memlimit = nil
end

---------------------------------------------------------------------------
-- Exit

function skynet.exit()
	fork_queue, fork_head, fork_tail = {}, 1, 0
	skynet.send(".launcher", "lua", "REMOVE", skynet.self(), false)
	-- callers still waiting on us get an error
	for co, session in pairs(request_session) do
		local address = request_source[co]
		if session ~= 0 and address then
			c_send(address, PTYPE_ERROR, session, "")
		end
	end
	request_session = {}
	for resp in pairs(unresponse) do
		resp(false)
	end
	-- close every parked thread (the running one cannot be closed)
	local me = coroutine_running()
	for _, co in pairs(session_id_coroutine) do
		if type(co) == "thread" and co ~= me and co ~= running_thread then
			coroutine_close(co)
		end
	end
	-- the services we wait on may drop what they owe us
	local callee = {}
	for _, address in pairs(watching_session) do
		callee[address] = true
	end
	for address in pairs(callee) do
		c_send(address, PTYPE_ERROR, 0, "")
	end
	c.callback(function(_, _, _, session, source)
		if session ~= 0 and source ~= 0 then
			c_send(source, PTYPE_ERROR, session, "")
		end
	end)
	c.command "EXIT"
	coroutine_yield "QUIT"
end

---------------------------------------------------------------------------
-- Services

function skynet.newservice(name, ...)
	return skynet.call(".launcher", "lua", "LAUNCH", "snlua", name, ...)
end

---------------------------------------------------------------------------
-- Start

local skynet_require = require "skynet.require"
skynet.init = skynet_require.init
skynet.require = skynet_require.require

function skynet.init_service(start)
	local function main()
		skynet_require.init_all()
		start()
	end
	local ok, err = xpcall(main, traceback)
	if not ok then
		c.error("init service failed: " .. tostring(err))
		skynet.send(".launcher", "lua", "ERROR")
		skynet.exit()
	else
		skynet.send(".launcher", "lua", "LAUNCHOK")
	end
end

function skynet.start(start_func)
	c.callback(skynet.dispatch_message)
	init_thread = skynet.timeout(0, function()
		skynet.init_service(start_func)
		init_thread = nil
	end)
end

---------------------------------------------------------------------------
-- Built-in protocols

do
	local REG = skynet.register_protocol

	REG {
		name = "lua",
		id = skynet.PTYPE_LUA,
		pack = skynet.pack,
		unpack = skynet.unpack,
	}

	REG {
		name = "response",
		id = skynet.PTYPE_RESPONSE,
	}

	REG {
		name = "error",
		id = skynet.PTYPE_ERROR,
		unpack = function(...) return ... end,
		dispatch = error_dispatch,
	}
end

-- The debug protocol: skynet.debug is loaded on the first debug message and
-- given the internals it needs (see its header); until then a small dispatcher that loads it stands in.
do
	local info_func = nil

	function skynet.info_func(fn)
		info_func = fn
	end

	local debug_dispatch = nil
	skynet.register_protocol {
		name = "debug",
		id = skynet.PTYPE_DEBUG,
		pack = skynet.pack,
		unpack = skynet.unpack,
		dispatch = function(...)
			if debug_dispatch == nil then
				debug_dispatch = require("skynet.debug").init(skynet, {
					dispatch = skynet.dispatch_message,
					suspend = suspend,
					resume = coroutine_resume,
					info_func = function() return info_func end,
				})
			end
			return debug_dispatch(...)
		end,
	}
end

-- The rarely used parts are loaded by the first access to one of their names,
-- and given the internals they need; most services never pay for their
-- prototypes.  skynet/extra.lua: request batches, tracing, thread inspection;
-- skynet/seldom.lua: deferred replies, unique services, raw and redirected
-- sends, local names, setenv, STAT commands, term.
do
	local lazy = {
		request = "skynet.extra", trace = "skynet.extra", tracetag = "skynet.extra",
		traceproto = "skynet.extra", task = "skynet.extra", uniqtask = "skynet.extra",
		killthread = "skynet.extra",
		response = "skynet.seldom", context = "skynet.seldom", rawsend = "skynet.seldom",
		redirect = "skynet.seldom", tracecall = "skynet.seldom",
		uniqueservice = "skynet.seldom", queryservice = "skynet.seldom",
		localname = "skynet.seldom", setenv = "skynet.seldom", endless = "skynet.seldom",
		mqlen = "skynet.seldom", stat = "skynet.seldom", term = "skynet.seldom",
	}
	setmetatable(skynet, {
		__index = function(t, k)
			local module = lazy[k]
			if not module then return nil end
			-- once per module: a name the module later removes stays removed
			for name, m in pairs(lazy) do
				if m == module then lazy[name] = nil end
			end
			require(module).init(skynet, {
				proto = proto,
				session_id_coroutine = session_id_coroutine,
				watching_session = watching_session,
				request_session = request_session,
				request_source = request_source,
				thread_tracetag = thread_tracetag,
				sleep_session = sleep_session,
				unresponse = unresponse,
				co_create = co_create,
				request = request,
				handle_error = handle_error,
				running_thread = function() return running_thread end,
				-- skynet.trace and traceproto: the message path must look at tags from now on
				start_tracing = function() tracing = true end,
				init_thread = function() return init_thread end,
				timeout_traceback = function() return timeout_traceback end,
				forks = function() return fork_queue, fork_head, fork_tail end,
				-- a new session for a request sent by the caller (nil/false: not sent)
				send_session = function(addr, id, msg, sz)
					if last_session >= safe_until then session_guard() end
					local session = c_send(addr, id, nil, msg, sz)
					if session then last_session = session end
					return session
				end,
			})
			return rawget(t, k)
		end,
	})
end

return skynet
