-- skynet.service: services defined by a function.
local skynet = require "skynet"
local service = require "skynet.service"
local T = require "testlib"

local function counter_service(start)
	local skynet = require "skynet"
	local n = tonumber(start) or 0
	skynet.start(function()
		skynet.dispatch("lua", function(_, _, cmd)
			if cmd == "inc" then n = n + 1 end
			skynet.retpack(n)
		end)
	end)
end

T.main("test_service", function()
	local addrs = {}
	T.parallel(3, function(i)
		addrs[i] = service.new("counter", counter_service, 10)
	end)
	T.eq(addrs[1], addrs[2], "one instance") T.eq(addrs[1], addrs[3], "one instance")
	T.eq(skynet.call(addrs[1], "lua", "inc"), 11, "args reached the main function")
	T.eq(service.query("counter"), addrs[1], "query")

	-- a query waits for a later new
	local q
	skynet.fork(function() q = service.query("later") end)
	skynet.sleep(2)
	T.eq(q, nil, "query waits")
	local l = service.new("later", counter_service)
	T.eventually(function() return q ~= nil end, "query answered")
	T.eq(q, l, "query answered")

	-- upvalues other than _ENV are refused
	local up = 1
	T.raises("upvalues", service.new, "bad", function() return up end)

	T.eq(service.close("counter"), true, "close")
	T.eventually(function() return not pcall(skynet.call, addrs[1], "lua", "inc") end, "closed service is gone")
	T.eq(service.close("never_made"), false, "close unknown")
end)
