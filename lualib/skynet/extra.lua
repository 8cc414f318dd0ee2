-- skynet.extra — the parts of skynet's API most services never call:
-- request batches (skynet.request), the thread inspection of the debug console
-- (task, uniqtask, killthread) and request tracing (trace, tracetag,
-- traceproto).  Every Lua state holds its own copy of each function prototype
-- it loads (stock Lua shares none), so keeping these out of skynet.lua saves
-- each service their prototypes (~15 KiB) and the time to load them.
-- skynet.lua installs them on the first access to any of these names and
-- hands over the scheduler internals they need (see there); the invariants
-- they rely on are skynet.lua's (its header).
local c = require "skynet.core"

local M = {}

function M.init(skynet, I)
	local proto = I.proto
	local session_id_coroutine = I.session_id_coroutine
	local watching_session = I.watching_session
	local request_session = I.request_session
	local request_source = I.request_source
	local thread_tracetag = I.thread_tracetag
	local sleep_session = I.sleep_session
	local co_create = I.co_create
	local c_send = c.send
	local PTYPE_ERROR = skynet.PTYPE_ERROR
	local traceback = debug.traceback
	local string_format = string.format
	local table_concat, table_unpack, table_pack = table.concat, table.unpack, table.pack
	local coroutine_yield = coroutine.yield

	-----------------------------------------------------------------------
	-- Request batches: skynet.request(...):select([timeout])

	local request_meta = {}
	request_meta.__index = request_meta

	function skynet.request(obj)
		local r = setmetatable({}, request_meta)
		if obj then
			return r:add(obj)
		end
		return r
	end

	function request_meta:add(obj)
		assert(type(obj) == "table" and self._selecting == nil, "can't add to a selecting request")
		self[#self + 1] = obj
		return self
	end

	request_meta.__call = request_meta.add

	function request_meta:close()
		if self._sessions then
			for session in pairs(self._sessions) do
				if session_id_coroutine[session] ~= nil then
					session_id_coroutine[session] = "BREAK"
				end
				watching_session[session] = nil
			end
			self._sessions = nil
		end
		if self._timer then
			self._timer = nil
		end
		self._done = true
	end

	request_meta.__close = request_meta.close

	local function request_iterator(self)
		while true do
			local ready = self._ready
			local h = self._rhead
			if h <= self._rtail then
				local item = ready[h]
				ready[h] = nil
				self._rhead = h + 1
				return item[1], item[2]
			end
			if self._done or self._pending == 0 or self._timedout then
				self:close()
				return nil
			end
			self._waiting = true
			skynet.wait(self)
			self._waiting = false
		end
	end

	-- the unpacked reply as a table.pack, or false if it could not be unpacked
	local function packed_results(ok, ...)
		if ok then
			return table_pack(...)
		end
		return false
	end

	function request_meta:select(timeout)
		assert(self._selecting == nil, "select twice")
		self._selecting = true
		self._ready, self._rhead, self._rtail = {}, 1, 0
		self._sessions = {}
		self._pending = 0
		local function push(req, resp)
			self._rtail = self._rtail + 1
			self._ready[self._rtail] = { req, resp }
			if self._waiting then skynet.wakeup(self) end
		end
		-- One collector thread turns every reply of the batch into a ready item:
		-- it is registered for all the batch's sessions, and each reply (or
		-- failure) resumes it with that session.
		local function collect(ok, msg, sz, session)
			local req = self._sessions and self._sessions[session]
			if req == nil then return end
			self._sessions[session] = nil
			watching_session[session] = nil
			self._pending = self._pending - 1
			if ok then
				push(req, packed_results(pcall(proto[req[2]].unpack, msg, sz)))
			else
				push(req, false)
			end
		end
		local collector
		for i = 1, #self do
			local req = self[i]
			local addr, p = req[1], proto[req[2]]
			local session = I.send_session(addr, p.id, p.pack(table_unpack(req, 3, req.n or #req)))
			if not session then
				push(req, nil)
			else
				self._sessions[session] = req
				self._pending = self._pending + 1
				watching_session[session] = addr
				if collector == nil then
					collector = co_create(function(ok, msg, sz, session)
						while true do
							collect(ok, msg, sz, session)
							if self._pending <= 0 or self._sessions == nil then return end
							ok, msg, sz, session = coroutine_yield "SUSPEND"
						end
					end)
				end
				session_id_coroutine[session] = collector
			end
		end
		if timeout then
			local timer = {}
			self._timer = timer
			skynet.timeout(timeout, function()
				if self._timer == timer then
					self._timedout = true
					if self._waiting then skynet.wakeup(self) end
				end
			end)
		end
		return request_iterator, self, nil, self
	end

	-----------------------------------------------------------------------
	-- Tracing

	local trace_id = 0

	function skynet.trace(info)
		local co = I.running_thread()
		-- as skynet: log the current tag (nil outside a traced request) first
		skynet.error("TRACE", thread_tracetag[co])
		if thread_tracetag[co] == false then return end -- forced off for this request
		I.start_tracing()
		trace_id = trace_id + 1
		local tag = string_format(":%08x-%d", skynet.self(), trace_id)
		thread_tracetag[co] = tag
		if info then
			c.trace(tag, "trace " .. info)
		else
			c.trace(tag, "trace")
		end
	end

	function skynet.tracetag()
		return thread_tracetag[I.running_thread()]
	end

	function skynet.traceproto(prototype, flag)
		local p = assert(proto[prototype], "unknown protocol")
		I.start_tracing()
		p.trace = flag
	end

	-----------------------------------------------------------------------
	-- Inspection

	function skynet.task(ret)
		if ret == nil then
			local n = 0
			for _, co in pairs(session_id_coroutine) do
				if type(co) == "thread" then n = n + 1 end
			end
			return n
		end
		if ret == "init" then
			local init_thread = I.init_thread()
			if init_thread then return traceback(init_thread) end
			return
		end
		local kind = type(ret)
		if kind == "table" then
			local timeout_traceback = I.timeout_traceback()
			for session, co in pairs(session_id_coroutine) do
				if type(co) == "thread" then
					-- a timer not started yet: where it was set (skynet's choice)
					local tb = timeout_traceback and timeout_traceback[co] or traceback(co)
					ret[string_format("%s session: %d", tostring(co), session)] = tb
				end
			end
			return
		elseif kind == "number" then
			local co = session_id_coroutine[ret]
			if type(co) == "thread" then return traceback(co) end
			return "No session"
		elseif kind == "thread" then
			for session, co in pairs(session_id_coroutine) do
				if co == ret then return session end
			end
		end
	end

	function skynet.uniqtask()
		local stacks = {}
		for session, co in pairs(session_id_coroutine) do
			if type(co) == "thread" then
				local tb = traceback(co)
				local group = stacks[tb]
				if group == nil then
					group = {}
					stacks[tb] = group
				end
				group[#group + 1] = session
			end
		end
		local ret = {}
		for tb, sessions in pairs(stacks) do
			table.sort(sessions)
			ret[string_format("%d\tsessions:[%s]", #sessions, table_concat(sessions, ","))] = tb
		end
		return ret
	end

	function skynet.killthread(co)
		local fork_queue, fork_head, fork_tail = I.forks()
		local session
		if type(co) == "string" then
			local pattern = co
			co = nil
			for s, t in pairs(session_id_coroutine) do
				if type(t) == "thread" and string.find(tostring(t), pattern, 1, true) then
					session, co = s, t
					break
				end
			end
			if co == nil then
				for i = fork_head, fork_tail do
					local t = fork_queue[i]
					if t and string.find(tostring(t), pattern, 1, true) then
						co = t
						break
					end
				end
			end
			if co == nil then return end
		else
			for s, t in pairs(session_id_coroutine) do
				if t == co then
					session = s
					break
				end
			end
		end
		local found = session ~= nil
		for i = fork_head, fork_tail do
			if fork_queue[i] == co then
				fork_queue[i] = false
				found = true
			end
		end
		if not found then return end
		if session then
			-- a reply or timer may still arrive for it
			session_id_coroutine[session] = "BREAK"
			watching_session[session] = nil
			for token, s in pairs(sleep_session) do
				if s == session then sleep_session[token] = nil end
			end
		end
		local owed = request_session[co]
		if owed and owed ~= 0 then
			c_send(request_source[co], PTYPE_ERROR, owed, "")
		end
		request_session[co] = nil
		request_source[co] = nil
		thread_tracetag[co] = nil
		coroutine.close(co)
		return co
	end
end

return M
