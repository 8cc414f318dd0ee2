-- skynet.queue: mutual exclusion, FIFO hand-over, re-entry, errors.
local skynet = require "skynet"
local queue = require "skynet.queue"
local T = require "testlib"

T.main("test_queue", function()
	local cs = queue()
	T.eq(type(cs), "function", "queue() returns a function")
	local log = {}
	local inside = 0
	local me = coroutine.running()
	local left = 3
	for _, name in ipairs { "a", "b", "c" } do
		skynet.fork(function()
			cs(function()
				inside = inside + 1
				T.eq(inside, 1, "one thread inside")
				log[#log + 1] = name .. "+"
				skynet.sleep(2)
				log[#log + 1] = name .. "-"
				inside = inside - 1
			end)
			left = left - 1
			if left == 0 then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
	T.same(log, { "a+", "a-", "b+", "b-", "c+", "c-" }, "serialised in arrival order")

	-- re-entry by the owner
	local r = cs(function()
		return cs(function(x) return x * 2 end, 21)
	end)
	T.eq(r, 42, "re-entrant")

	-- an error releases the section and propagates
	T.raises("inner failure", cs, function() error("inner failure") end)
	T.eq(cs(function() return "free" end), "free", "released after an error")
	T.eq(skynet.queue, queue, "skynet.queue is the factory")
end)
