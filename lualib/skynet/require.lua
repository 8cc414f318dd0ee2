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
local run_require = nil    -- skynet/require_run.lua, loaded by the first require after start

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

function M.require(name)
	local m = loaded[name]
	if m ~= nil then
		return m
	end
	if main_inits then
		-- main chunk: plain loading, inits deferred to skynet.start
		return plain_require(name)
	end
	if run_require == nil then
		run_require = plain_require("skynet.require_run")(collecting)
	end
	return run_require(name)
end

return M
