-- service_mgr (`.service`, and global `SERVICE` on the standalone node) —
-- the registry behind skynet.uniqueservice / queryservice.
--
-- service[name] is one of:
--   a number   the running service;
--   a string   why its launch failed (kept, so later callers fail the same way);
--   a table    threads waiting for it; `.launching` is set once a launch runs.
-- Names starting with '@' are global (GLAUNCH/GQUERY).  Replies are
-- (handle) or (nil, error).
local skynet = require "skynet"
require "skynet.manager"

local cmd = {}
local service = {}

local function waitfor(name, launch, ...)
	local s = service[name]
	if type(s) == "number" then
		return s
	elseif type(s) == "string" then
		error(s)
	end
	if s == nil then
		s = {}
		service[name] = s
	end
	if launch and not s.launching then
		s.launching = true
		local ok, handle = pcall(launch, ...)
		if ok and handle == nil then
			ok, handle = false, "service " .. name .. " exited while starting"
		end
		service[name] = ok and handle or tostring(handle)
		for i = 1, #s do
			skynet.wakeup(s[i])
		end
		if not ok then error(handle, 0) end
		return handle
	end
	local co = coroutine.running()
	s[#s + 1] = co
	skynet.wait(co)
	s = service[name]
	if type(s) == "string" then
		error(s, 0)
	end
	return s
end

local function real_name(name)
	if string.byte(name) == 64 then -- '@'
		return string.sub(name, 2)
	end
	return name
end

function cmd.LAUNCH(service_name, subname, ...)
	local realname = real_name(service_name)
	if realname == "snaxd" then
		local snax = require "skynet.snax"
		return waitfor(service_name .. "." .. subname, snax.rawnewservice, subname, ...)
	end
	return waitfor(service_name, skynet.newservice, realname, subname, ...)
end

function cmd.QUERY(service_name, subname)
	if real_name(service_name) == "snaxd" then
		return waitfor(service_name .. "." .. subname)
	end
	return waitfor(service_name)
end

local function list_service()
	local result = {}
	for k, v in pairs(service) do
		if type(v) == "string" then
			v = "Error: " .. v
		elseif type(v) == "table" then
			v = v.launching and "Launching" or "Querying"
		else
			v = skynet.address(v)
		end
		result[k] = v
	end
	return result
end

local function register_global()
	-- this node owns the global registry
	function cmd.GLAUNCH(name, ...)
		return cmd.LAUNCH("@" .. name, ...)
	end

	function cmd.GQUERY(name, ...)
		return cmd.QUERY("@" .. name, ...)
	end

	local managers = {}

	function cmd.REPORT(m)
		managers[m] = true
	end

	function cmd.LIST()
		local result = {}
		for m in pairs(managers) do
			local ok, list = pcall(skynet.call, m, "lua", "LIST")
			if ok then
				for k, v in pairs(list) do result[k] = v end
			end
		end
		for k, v in pairs(list_service()) do result[k] = v end
		return result
	end
end

local function register_local()
	-- global names live on the standalone node: ask its SERVICE, cache here
	local function remote(name, command, ...)
		local key = "@" .. name
		local s = service[key]
		if type(s) == "number" then return s end
		if type(s) == "string" then error(s, 0) end
		return waitfor(key, function(...)
			return skynet.call("SERVICE", "lua", command, ...)
		end, ...)
	end

	function cmd.GLAUNCH(name, ...)
		return remote(name, "GLAUNCH", name, ...)
	end

	function cmd.GQUERY(name, ...)
		return remote(name, "GQUERY", name, ...)
	end

	function cmd.LIST()
		return list_service()
	end

	skynet.call("SERVICE", "lua", "REPORT", skynet.self())
end

skynet.start(function()
	skynet.dispatch("lua", function(session, address, command, ...)
		local f = cmd[command]
		if f == nil then
			skynet.ret(skynet.pack(nil, "Invalid command " .. tostring(command)))
			return
		end
		local ok, r = pcall(f, ...)
		if ok then
			skynet.ret(skynet.pack(r))
		else
			skynet.ret(skynet.pack(nil, r))
		end
	end)
	local handle = skynet.localname ".service"
	if handle then
		skynet.error(".service is already registered by " .. skynet.address(handle))
		skynet.exit()
	else
		skynet.register ".service"
	end
	if skynet.getenv "standalone" then
		skynet.register "SERVICE"
		register_global()
	else
		register_local()
	end
end)
