-- skynet.service — services defined by a Lua function instead of a file.
-- service.new(name, mainfunc, ...) starts, once per node, a
-- service_cell running string.dump(mainfunc); mainfunc may have no upvalue
-- but _ENV.  service.query waits for it; service.close kills it.
local skynet = require "skynet"
require "skynet.manager"

local service = {}
local cache = {}
local provider

local function get_provider()
	provider = provider or skynet.uniqueservice "service_provider"
	return provider
end

local function check(func)
	local info = debug.getinfo(func, "u")
	assert(info.nups == 0 or (info.nups == 1 and debug.getupvalue(func, 1) == "_ENV"),
		"service mainfunc can't have upvalues other than _ENV")
end

function service.new(name, mainfunc, ...)
	local p = get_provider()
	local addr, booting = skynet.call(p, "lua", "test", name)
	local address
	if addr then
		address = addr
	else
		if booting then
			address = skynet.call(p, "lua", "query", name)
		else
			check(mainfunc)
			local code = string.dump(mainfunc)
			address = skynet.call(p, "lua", "launch", name, code, ...)
		end
	end
	cache[name] = address
	return address
end

function service.close(name)
	local addr = skynet.call(get_provider(), "lua", "close", name)
	if addr then
		cache[name] = nil
		skynet.kill(addr)
		return true
	end
	return false
end

function service.query(name)
	if not cache[name] then
		cache[name] = skynet.call(get_provider(), "lua", "query", name)
	end
	return cache[name]
end

return service
