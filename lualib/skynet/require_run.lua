-- skynet.require_run — the half of skynet.require that runs after the start
-- function began: a require inside the calling skynet thread (the phases and
-- their rules are in skynet/require.lua's header).  Loaded by the first such
-- require only, so a service that requires nothing after its main chunk keeps
-- these prototypes out of its state.  Called with require.lua's `collecting`
-- table (thread -> init list of the module it loads now); returns the
-- function that requires a module not loaded yet.
local loaded = package.loaded
local coroutine_running = coroutine.running

return function(collecting)
	local loading = {}         -- module name -> { co = loader thread, waiters... }

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

	return function(name)
		local m
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
end
