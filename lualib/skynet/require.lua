-- skynet.require — a coroutine-aware `require`.
--
-- Two phases:
--  * While the service's main chunk runs (before skynet.start's init), modules
--    load with the plain `require`, and functions given to skynet.init are
--    queued; init_all runs them, in order, just before the start function.
--  * Afterwards, a require runs inside the calling skynet thread; the module's
--    init functions run right after its body.  A second thread asking for a
--    module being loaded waits for the first; a thread that asks again for a
--    module it is itself loading has a circular dependency: an error.
-- This file must not require "skynet" at load time (skynet requires it).
local M = {}

local plain_require = require
local loaded = package.loaded
local coroutine_running = coroutine.running

local main_inits = {}      -- inits queued during the main chunk; nil once run
local collecting = {}      -- thread -> init list of the module it loads now
local loading = {}         -- module name -> { co = loader thread, waiters... }

function M.init(f)
	assert(type(f) == "function", "skynet.init needs a function")
	local list = collecting[coroutine_running()] or main_inits
	if list then
		list[#list + 1] = f
	else
		f()
	end
end

function M.init_all()
	local list = main_inits
	main_inits = nil
	if list then
		for i = 1, #list do
			list[i]()
		end
	end
end

-- The C `require` can't be yielded across, so at run time we search and call
-- the loader ourselves: a module body may then block (skynet.call, sleep).
local function load_module(name)
	local messages = {}
	for _, searcher in ipairs(package.searchers) do
		local loader, extra = searcher(name)
		if type(loader) == "function" then
			local result = loader(name, extra)
			if result ~= nil then
				loaded[name] = result
			elseif loaded[name] == nil then
				loaded[name] = true
			end
			return loaded[name]
		elseif type(loader) == "string" then
			messages[#messages + 1] = loader
		end
	end
	error(string.format("module '%s' not found:%s", name, table.concat(messages)), 2)
end

local function wake(waiters)
	local skynet = loaded.skynet
	for i = 1, #waiters do
		skynet.wakeup(waiters[i])
	end
end

function M.require(name)
	local m = loaded[name]
	if m ~= nil then
		return m
	end
	if main_inits then
		-- main chunk: plain loading, inits deferred to skynet.start
		return plain_require(name)
	end
	local co = coroutine_running()
	local state = loading[name]
	if state then
		if state.co == co then
			error("circular dependency when requiring " .. name)
		end
		state[#state + 1] = co
		loaded.skynet.wait(co)
		m = loaded[name]
		if m == nil then
			error(string.format("require %s failed", name))
		end
		return m
	end
	state = { co = co }
	loading[name] = state
	local outer = collecting[co]
	local inits = {}
	collecting[co] = inits
	local ok, result = xpcall(load_module, debug.traceback, name)
	collecting[co] = outer
	if ok then
		for i = 1, #inits do
			local iok, err = xpcall(inits[i], debug.traceback)
			if not iok then
				ok, result = false, err
				break
			end
		end
	end
	loading[name] = nil
	if not ok then
		loaded[name] = nil
	end
	wake(state)
	if not ok then
		error(result, 0)
	end
	return result
end

return M
