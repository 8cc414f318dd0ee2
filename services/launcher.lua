-- launcher (`.launcher`) — launches Lua services and keeps the list of them.
-- A LAUNCH is answered only when the new service reports back:
-- LAUNCHOK (its start function returned), ERROR (it failed), or REMOVE (it
-- exited first).
local skynet = require "skynet"
local core = require "skynet.core"
require "skynet.manager"

local services = {}        -- handle -> command line
local launching = {}       -- handle -> response closure of the LAUNCH caller
local launch_session = {}  -- handle -> session of that LAUNCH request
local command = {}
local NORET = {}

local function list_services(ti, format, ...)
	local req = skynet.request()
	local waiting = {}
	for addr in pairs(services) do
		req:add { addr, "debug", ... }
		waiting[addr] = true
	end
	local list = {}
	for r, resp in req:select(ti) do
		local addr = r[1]
		waiting[addr] = nil
		if resp then
			list[skynet.address(addr)] = format(resp[1], addr)
		else
			list[skynet.address(addr)] = format("ERROR", addr)
		end
	end
	for addr in pairs(waiting) do
		list[skynet.address(addr)] = format("TIMEOUT", addr)
	end
	return list
end

function command.LIST()
	local list = {}
	for k, v in pairs(services) do
		list[skynet.address(k)] = v
	end
	return list
end

function command.STAT(_, ti)
	return list_services(ti, function(v) return v end, "STAT")
end

function command.MEM(_, ti)
	return list_services(ti, function(kb, addr)
		if type(kb) == "number" then
			return string.format("%.2f Kb (%s)", kb, services[addr])
		end
		return string.format("%s (%s)", kb, services[addr])
	end, "MEM")
end

function command.GC(addr, ti)
	for k in pairs(services) do
		skynet.send(k, "debug", "GC")
	end
	return command.MEM(addr, ti)
end

function command.KILL(_, handle)
	skynet.kill(handle)
	local ret = { [skynet.address(handle)] = tostring(services[handle]) }
	services[handle] = nil
	return ret
end

local function launch_service(service, ...)
	local param = table.concat({ ... }, " ")
	local inst = skynet.launch(service, param)
	local session = skynet.context()
	local response = skynet.response()
	if inst then
		services[inst] = service .. " " .. param
		launching[inst] = response
		launch_session[inst] = session
	else
		response(false)
		return
	end
	return inst
end

function command.LAUNCH(_, service, ...)
	launch_service(service, ...)
	return NORET
end

function command.LOGLAUNCH(_, service, ...)
	local inst = launch_service(service, ...)
	if inst then
		core.command("LOGON", skynet.address(inst))
	end
	return NORET
end

local function finish(address, ok, ...)
	local response = launching[address]
	if response then
		response(ok, ...)
		launching[address] = nil
		launch_session[address] = nil
	end
end

function command.ERROR(address)
	finish(address, false)
	services[address] = nil
	return NORET
end

function command.LAUNCHOK(address)
	finish(address, true, address)
	return NORET
end

function command.REMOVE(_, handle, kill)
	services[handle] = nil
	-- exited during init: newservice returns nil, or fails if it was killed
	finish(handle, not kill)
	return NORET
end

function command.QUERY(_, session)
	for handle, s in pairs(launch_session) do
		if s == session then
			return handle
		end
	end
end

skynet.register_protocol {
	name = "text",
	id = skynet.PTYPE_TEXT,
	unpack = skynet.tostring,
	dispatch = function(session, address, cmd)
		-- C services report their launch with text messages
		if cmd == "" then
			command.LAUNCHOK(address)
		elseif cmd == "ERROR" then
			command.ERROR(address)
		else
			error("Invalid text command " .. cmd)
		end
	end,
}

skynet.dispatch("lua", function(session, address, cmd, ...)
	cmd = string.upper(cmd)
	local f = command[cmd]
	if f then
		local ret = f(address, ...)
		if ret ~= NORET then
			skynet.ret(skynet.pack(ret))
		end
	else
		skynet.ret(skynet.pack { "Unknown command" })
	end
end)

skynet.start(function() end)
