-- skynet.calltimeout — a skynet.call that gives up.
--
--   local calltimeout = require "skynet.calltimeout"
--   local ok, result = calltimeout(ti, address, typename, ...)
--
-- ti in centiseconds.  ok is false with result = the call's error, or with
-- result = "no answer within <s> s" when ti passed first; a late answer is
-- dropped.  Only the first value of the answer is kept.  Used where a
-- service must not wait forever on another (the console asking other nodes,
-- the metrics service asking the drain service for /ready).
local skynet = require "skynet"

return function(ti, ...)
	local co = coroutine.running()
	local answered, ok, result = false, false, string.format("no answer within %g s", ti / 100)
	local args = table.pack(...)
	skynet.fork(function()
		local cok, cresult = pcall(skynet.call, table.unpack(args, 1, args.n))
		if not answered then
			answered, ok, result = true, cok, cresult
			skynet.wakeup(co)
		end
	end)
	skynet.timeout(ti, function()
		if not answered then
			answered = true
			skynet.wakeup(co)
		end
	end)
	skynet.wait(co)
	return ok, result
end
