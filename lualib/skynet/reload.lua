-- skynet.reload: hot reload inside one running Lua service.  The debug
-- commands RELOAD and RESTART (skynet.debug) come here; services/reloadd.lua
-- sends them, after clearing the code cache, to every service of a type.
--
--   RELOAD [module...]   re-require the named modules (none named: every
--                        module of the service's own, see below) and merge
--                        each new module table into the old one, so code that
--                        holds the module table (`local m = require "m"`)
--                        calls the new functions.  Replies true | false, error.
--   RESTART [arg...]     run the service's main file again, in the same
--                        service (same handle, same queue, same sessions):
--                        its own modules are forgotten first, and the start
--                        function given to skynet.start runs at once.  The
--                        args are the service's launch arguments.
--
-- All or nothing: a module or main file that fails to load or to run leaves
-- the service as it was (old modules, old dispatch functions) and the reply
-- says why.  Messages keep being served by the old dispatch functions until
-- the new start function sets its own: no call is lost.
--
-- "The service's own modules" are the Lua modules (package.loaded entries
-- found on package.path) that do not come from the runtime's own folder (the
-- one holding skynet.lua): skynet's modules keep their state (sessions,
-- coroutines, timers) across a reload.
local M = {}

local function runtime_dir()
	local p = package.searchpath("skynet", package.path)
	return p and p:match("^(.*/)[^/]*$") or nil
end

-- names of the modules that are the service's own
local function own_modules()
	local rt = runtime_dir()
	local list = {}
	for name in pairs(package.loaded) do
		if type(name) == "string" and not package.preload[name] then
			local path = package.searchpath(name, package.path)
			if path and (rt == nil or path:sub(1, #rt) ~= rt) then
				list[#list + 1] = name
			end
		end
	end
	table.sort(list)
	return list
end
M.own_modules = own_modules

-- Reloads modules; raises (having put every old module back) on failure.
function M.reload(names)
	if names == nil or #names == 0 then
		names = own_modules()
	end
	local old = {}
	for _, name in ipairs(names) do
		old[name] = package.loaded[name]
		package.loaded[name] = nil
	end
	local new = {}
	for _, name in ipairs(names) do
		local ok, m = pcall(require, name)
		if not ok then
			for n, v in pairs(old) do package.loaded[n] = v end
			error(string.format("reload %s: %s", name, tostring(m)), 0)
		end
		new[name] = m
	end
	for _, name in ipairs(names) do
		local o, n = old[name], new[name]
		if type(o) == "table" and type(n) == "table" and o ~= n then
			for k, v in pairs(n) do o[k] = v end
			package.loaded[name] = o
		end
	end
	return names
end

-- The main file of this service, as the loader finds it.
local function main_file(skynet)
	local errors = {}
	for template in string.gmatch(skynet.getenv "luaservice" or "", "([^;]+);*") do
		local filename = string.gsub(template, "%?", function() return SERVICE_NAME end)
		local f, msg = loadfile(filename)
		if f then
			return f
		end
		errors[#errors + 1] = msg
	end
	error("restart: " .. table.concat(errors, "; "), 0)
end

-- Runs the main file again; raises (with the service as it was) on failure.
function M.restart(skynet, ...)
	local main = main_file(skynet)
	local proto = skynet._proto
	local saved_dispatch = {}
	for name, class in pairs(proto) do
		saved_dispatch[class] = class.dispatch
	end
	local saved_modules = {}
	for _, name in ipairs(own_modules()) do
		saved_modules[name] = package.loaded[name]
		package.loaded[name] = nil
	end
	local start_func
	local real_start, real_register = skynet.start, skynet.register_protocol
	skynet.start = function(f) start_func = f end
	-- a protocol the old code registered is updated in place, not refused
	skynet.register_protocol = function(class)
		local old = proto[class.name]
		if old and old.id == class.id then
			for k, v in pairs(class) do old[k] = v end
		else
			real_register(class)
		end
	end
	local ok, err = pcall(function(...)
		main(...)
		assert(start_func, "the main file did not call skynet.start")
		start_func()
	end, ...)
	skynet.start, skynet.register_protocol = real_start, real_register
	if not ok then
		for class, f in pairs(saved_dispatch) do class.dispatch = f end
		for name, m in pairs(saved_modules) do package.loaded[name] = m end
		error("restart: " .. tostring(err), 0)
	end
end

-- debug RELOAD / RESTART: the reply is true, or false and the error
function M.debug_reload(skynet, ...)
	local ok, err = pcall(M.reload, { ... })
	skynet.ret(skynet.pack(ok, not ok and err or nil))
end

function M.debug_restart(skynet, ...)
	local ok, err = pcall(M.restart, skynet, ...)
	skynet.ret(skynet.pack(ok, not ok and err or nil))
end

return M
