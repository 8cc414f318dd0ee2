-- skynet's memory-limit test (test/testmemlimit.lua): under a 1 MiB limit set
-- in the main chunk, a service's start-up leaves room for 12,355 empty tables
-- (skynet's figure), the libraries it then asks for fail inside the service
-- only, and the service exits cleanly.  The node and later services go on.
local skynet = require "skynet"
local T = require "testlib"

local result

T.main("test_memlimit_1m", function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "result" then result = table.pack(...) end
	end)
	-- the service exits in its start function: newservice returns nil, not an error
	T.eq(skynet.newservice("t_memlimit_1m", skynet.self()), nil, "started and exited in start")
	T.eventually(function() return result ~= nil end, "the service reported")
	local limit, err, loaded, refused, other, big = table.unpack(result, 1, 6)
	T.eq(err, "", "no memory error while making the tables")
	T.eq(limit, 12355, "12,355 tables fit in 1 MiB, as on skynet")
	T.eq(other, "", "each require loads, is not found or fails with a memory error")
	T.eq(loaded + refused, 8, "eight requires")
	T.ok(string.find(big, "not enough memory", 1, true), "2 MiB more past the limit fails with a memory error: " .. big)
	-- nothing else is touched: a new service starts and answers
	local e = skynet.newservice "t_echo"
	T.eq(skynet.call(e, "lua", "echo", "x"), "x", "the node goes on")
end)
