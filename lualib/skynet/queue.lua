-- skynet.queue — critical sections for skynet threads.
-- `local cs = skynet.queue(); cs(f, ...)` runs f so that no other thread runs
-- a function through the same cs meanwhile.  The owner may re-enter (depth
-- counts); waiters are served in arrival order.
local skynet = require "skynet"
local coroutine_running = coroutine.running
local traceback = debug.traceback

function skynet.queue()
	local owner = nil
	local depth = 0
	local waiters, head, tail = {}, 1, 0

	local function leave(ok, ...)
		depth = depth - 1
		if depth == 0 then
			owner = nil
			if head <= tail then
				-- hand the section over before anyone else can grab it
				owner = waiters[head]
				waiters[head] = nil
				head = head + 1
				skynet.wakeup(owner)
			end
		end
		if not ok then
			error((...), 0)
		end
		return ...
	end

	return function(f, ...)
		local co = coroutine_running()
		if owner ~= nil and owner ~= co then
			tail = tail + 1
			waiters[tail] = co
			skynet.wait(co)
			assert(owner == co and depth == 0)
		end
		owner = co
		depth = depth + 1
		return leave(xpcall(f, traceback, ...))
	end
end

return skynet.queue
