-- lua_benchlib — shared by the Lua benchmark services: a scale factor from
-- the config (`bench_scale`, 1 = full size), result lines on stdout in the form
--   BENCH <name> <value> <unit> [<note>]
-- and the end of the run ("BENCH DONE", then the node aborts).
local skynet = require "skynet"
require "skynet.manager"

local B = {}

B.scale = tonumber(skynet.getenv "bench_scale") or 1

function B.n(full)
	return math.max(1, math.floor(full * B.scale))
end

function B.report(name, value, unit, note)
	local line = string.format("BENCH %s %.6g %s%s", name, value, unit, note and (" " .. note) or "")
	io.stdout:write(line, "\n")
	io.stdout:flush()
end

function B.clock()
	return skynet.hpc() / 1e9
end

function B.main(fn)
	skynet.start(function()
		skynet.fork(function()
			local ok, err = xpcall(fn, debug.traceback)
			if not ok then
				io.stdout:write("BENCH FAIL ", tostring(err), "\n")
			end
			io.stdout:write("BENCH DONE\n")
			io.stdout:flush()
			skynet.sleep(5)
			skynet.abort()
		end)
	end)
end

function B.rss_kib()
	local f = io.open("/proc/self/status")
	if not f then return 0 end
	for line in f:lines() do
		local kb = string.match(line, "^VmRSS:%s+(%d+)")
		if kb then f:close() return tonumber(kb) end
	end
	f:close()
	return 0
end

-- Run fn(i) in `count` threads at once and wait for all of them.
function B.parallel(count, fn)
	local me = coroutine.running()
	local left = count
	for i = 1, count do
		skynet.fork(function()
			fn(i)
			left = left - 1
			if left == 0 then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
end

-- Launch n services of one kind, `width` launches in flight; returns their
-- handles, the seconds it took, and the growth of process RSS and of the Lua
-- heap (both KiB) while they are alive.
function B.spawn(name, n, width)
	local memory = require "skynet.memory"
	local rss0, lua0 = B.rss_kib(), memory.total()
	local handles = {}
	local t0 = B.clock()
	B.parallel(width, function(k)
		for i = k, n, width do
			handles[i] = skynet.newservice(name)
		end
	end)
	local dt = B.clock() - t0
	return handles, dt, B.rss_kib() - rss0, (memory.total() - lua0) / 1024
end

return B
