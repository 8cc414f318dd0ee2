-- snaxd NAME: runs the snax service file NAME (found through the `snax`
-- config path; see snax.interface).
--
-- Messages are "snax" (PTYPE_SNAX) ones: skynet.pack(id, ...).  The system
-- ids: init(...) must come first and exactly once; exit(...) runs the file's
-- exit and ends the service; hotfix(source, ...) patches methods (snax.hotfix);
-- profile returns { [method] = { count, time } }.  accept methods get no
-- reply; response methods reply with their results, or an error.
-- snax.enablecluster() lets the same methods be called as "lua" messages.
--
-- The file's folder (template prefix .. NAME .. "/") is put first on
-- package.path, so a service can keep its modules beside it.
local skynet = require "skynet"
local profile = require "skynet.profile"
local load_interface = require "snax.interface"
local snax = require "skynet.snax"

local name = assert((...), "snaxd needs a service name")
local loader
do
	local loader_path = skynet.getenv "snax_loader"
	if loader_path then
		loader = assert(dofile(loader_path))
	end
end

local methods, pattern = load_interface(name, _ENV, loader)
do
	local prefix = pattern:sub(1, (pattern:find("?", 1, true) or #pattern + 1) - 1)
	SERVICE_PATH = prefix .. name .. "/"
	package.path = SERVICE_PATH .. "?.lua;" .. package.path
end
SERVICE_NAME = name

local stats = {} -- method name -> { count, time }

local function account(mname, seconds)
	local s = stats[mname]
	if s == nil then
		s = { count = 0, time = 0 }
		stats[mname] = s
	end
	s.count = s.count + 1
	s.time = s.time + seconds
end

local function reply(...)
	skynet.ret(skynet.pack(...))
end

local function call_response(f, ...)
	reply(f(...))
end

-- Runs an accept or response method, timing it; an error is raised after
-- the accounting, so skynet logs it (and fails the caller of a response).
local function run(m, ...)
	local f = m[4]
	profile.start()
	local ok, err
	if m[2] == "accept" then
		ok, err = xpcall(f, debug.traceback, ...)
	else
		ok, err = xpcall(call_response, debug.traceback, f, ...)
	end
	account(m[3], profile.stop())
	if not ok then
		error(err, 0)
	end
end

local started = false

local system = {}

function system.init(m, ...)
	assert(not started, "snax service already initialised")
	if m[4] then
		m[4](...)
	end
	started = true
	skynet.info_func(function() return stats end)
	skynet.ret()
end

function system.exit(m, ...)
	assert(started, "snax service never initialised")
	if m[4] then
		m[4](...)
	end
	skynet.ret()
	started = false
	skynet.exit()
end

function system.hotfix(_, ...)
	local hotfix = require "snax.hotfix"
	reply(hotfix(methods, ...))
end

function system.profile()
	reply(stats)
end

local function dispatch(_, _, id, ...)
	local m = methods[id]
	if m == nil then
		error(string.format("snax %s has no method id %s", name, tostring(id)))
	end
	if m[2] == "system" then
		return system[m[3]](m, ...)
	end
	assert(started, "snax service called before init")
	run(m, ...)
end

skynet.start(function()
	skynet.dispatch("snax", dispatch)
	function snax.enablecluster()
		skynet.dispatch("lua", dispatch)
	end
end)
