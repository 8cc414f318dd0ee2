-- skynet.coroutine — a coroutine library that lives with skynet's blocking
-- calls.
--
-- A user coroutine yields to its resumer with ("USER", ...).  Anything else it
-- yields comes from the framework (a skynet.call, sleep, wait, exit...): that
-- yield is passed up to the skynet thread, which yields it to the scheduler;
-- whatever the scheduler resumes the thread with is handed back down, so the
-- user coroutine continues as if nothing happened.  While passed up, the
-- coroutine is "blocked": it can't be resumed by user code.
local cocreate = coroutine.create
local coresume = coroutine.resume
local coyield = coroutine.yield
local costatus = coroutine.status
local corunning = coroutine.running
local coclose = coroutine.close

local M = {}

local root = setmetatable({}, { __mode = "kv" })     -- user coroutine -> skynet thread
local blocked = setmetatable({}, { __mode = "k" })   -- user coroutine -> true while blocked

function M.create(f)
	local co = cocreate(f)
	root[co] = false -- a skynet.coroutine, not yet attached to a thread
	return co
end

local settle_framework

local function settle(co, ok, ...)
	if not ok then
		return false, (...)
	end
	if costatus(co) == "dead" then
		-- finished: exactly its return values (none is none, not a nil)
		return true, ...
	end
	local command = ...
	if command == "USER" then
		return true, select(2, ...)
	end
	return settle_framework(co, ...)
end

-- a framework yield: pass it up, feed the answer back down
settle_framework = function(co, command, ...)
	blocked[co] = true
	local resumed = table.pack(coyield(command, ...))
	blocked[co] = nil
	return settle(co, coresume(co, table.unpack(resumed, 1, resumed.n)))
end

function M.resume(co, ...)
	if blocked[co] then
		return false, "cannot resume a skynet coroutine blocked in a skynet call"
	end
	local r = root[co]
	if r == nil then
		-- not made by skynet.coroutine (a skynet thread, or coroutine.create's):
		-- refused with skynet's words, since resuming it would hijack its yields
		return false, "cannot resume none skynet coroutine"
	end
	if r == false then
		local me = corunning()
		root[co] = root[me] or me
	end
	return settle(co, coresume(co, ...))
end

function M.yield(...)
	return coyield("USER", ...)
end

function M.status(co)
	if blocked[co] then
		return "blocked"
	end
	return costatus(co)
end

M.running = corunning
M.isyieldable = coroutine.isyieldable

function M.close(co)
	return coclose(co)
end

-- (the skynet thread co runs under, true when co is itself a skynet thread)
function M.thread(co)
	co = co or corunning()
	local r = root[co]
	if r then
		return r, false
	end
	return co, true
end

function M.wrap(f)
	local co = M.create(f)
	local function check(ok, ...)
		if ok then
			return ...
		end
		error((...), 2)
	end
	return function(...)
		return check(M.resume(co, ...))
	end
end

return M
