-- service_provider (unique) — the registry behind skynet.service.
-- svc[name] = { address = handle?, error = string?, booting = bool, waiting = {threads} }
local skynet = require "skynet"

local provider = {}
local svc = {}

local function entry(name)
	local s = svc[name]
	if s == nil then
		s = { waiting = {} }
		svc[name] = s
	end
	return s
end

local function result(s)
	if s.error then
		error(s.error, 0)
	end
	return s.address
end

function provider.test(name)
	local s = svc[name]
	if s == nil then
		return nil, false
	end
	return s.address, s.booting
end

function provider.query(name)
	local s = entry(name)
	if s.address or s.error then
		return result(s)
	end
	local co = coroutine.running()
	s.waiting[#s.waiting + 1] = co
	skynet.wait(co)
	return result(s)
end

function provider.launch(name, code, ...)
	local s = entry(name)
	if s.address or s.error then
		return result(s)
	end
	if s.booting then
		return provider.query(name)
	end
	s.booting = true
	local ok, addr = pcall(skynet.newservice, "service_cell", name)
	if ok then
		ok, addr = pcall(function(...)
			skynet.call(addr, "lua", code, ...)
			return addr
		end, ...)
	end
	s.booting = false
	if ok then
		s.address = addr
	else
		s.error = tostring(addr)
	end
	local waiting = s.waiting
	s.waiting = {}
	for _, co in ipairs(waiting) do
		skynet.wakeup(co)
	end
	return result(s)
end

function provider.close(name)
	local s = svc[name]
	if s == nil or s.booting then
		return nil
	end
	svc[name] = nil
	return s.address
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = assert(provider[cmd], "unknown service_provider command")
		skynet.ret(skynet.pack(f(...)))
	end)
end)
