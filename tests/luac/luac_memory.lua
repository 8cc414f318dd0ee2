-- skynet.memory without jemalloc, and the 32 MiB memory warning.
local skynet = require "skynet"
local memory = require "skynet.memory"
local t = require "luac_t"

t.run("memory", function()
	local self = skynet.self()
	local total, block, current = memory.total(), memory.block(), memory.current()
	t.ok(total > current and current > 10000, "total > current")
	t.ok(block > 100, "blocks counted")
	local cur_gc = collectgarbage("count") * 1024
	t.ok(math.abs(memory.current() - cur_gc) < 4096, "current is this state's Lua bytes")
	local info = memory.info()
	t.ok(info[self] and info[self] > 10000, "info has this service")
	local n = 0
	for _ in pairs(info) do n = n + 1 end
	t.ok(n >= 5, "info lists every snlua service")
	memory.dump()
	memory.dumpinfo()
	t.eq(memory.mallctl("stats.allocated"), 0, "mallctl without jemalloc")
	t.eq(next(memory.jestat()), nil, "jestat empty")
	t.eq(memory.profactive(), false, "profactive")
	-- 40 MiB crosses the 32 MiB warning threshold once
	local big = string.rep("m", 40 * 1024 * 1024)
	t.ok(memory.total() > total + 40 * 1024 * 1024, "total follows the heap")
	big = nil
	collectgarbage()
	t.ok(memory.current() < 32 * 1024 * 1024, "freed")
end)
