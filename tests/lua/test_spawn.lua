-- 10,000 services spawned (in rounds of 1,000) and exited; memory returns.
-- Lua memory is measured exactly with skynet.memory.total() (bytes held by
-- every service's Lua state); RSS is watched for steady growth (a leak in C).
local skynet = require "skynet"
local memory = require "skynet.memory"
local T = require "testlib"

local BATCH = tonumber(skynet.getenv "spawn_batch") or 1000
local ROUNDS = tonumber(skynet.getenv "spawn_rounds") or 10

local function spawn_round()
	local handles = {}
	T.parallel(BATCH, function(i)
		handles[i] = skynet.newservice "t_spawn"
	end)
	local peak_lua = memory.total()
	for i = 1, BATCH do
		skynet.call(handles[i], "lua", "exit")
	end
	return peak_lua
end

-- A full GC in every service, the launcher too (it isn't on its own list);
-- the MEM call returns after the launcher's GC ran (same queue, in order).
local function collect_all()
	skynet.call(".launcher", "lua", "GC")
	skynet.send(".launcher", "debug", "GC")
	skynet.call(".launcher", "debug", "MEM")
end

local function count_services()
	local n = 0
	for _ in pairs(skynet.call(".launcher", "lua", "LIST")) do n = n + 1 end
	return n
end

T.main("test_spawn", function()
	local n0 = count_services()
	skynet.sleep(10)
	-- this service keeps a pool of the threads it forked: count the others
	local lua0 = memory.total() - memory.current()
	local t0 = skynet.hpc()
	local peak = spawn_round()
	skynet.sleep(20)
	local rss1 = T.rss_kib()
	for _ = 2, ROUNDS do
		local p = spawn_round()
		if p > peak then peak = p end
	end
	local secs = (skynet.hpc() - t0) / 1e9
	collect_all()
	local lua1 = memory.total() - memory.current()
	local rss2 = T.rss_kib()
	T.eq(count_services(), n0, "every spawned service is gone from the launcher")
	skynet.error(string.format(
		"spawn: %d services in %.2fs (%.0f/s); Lua heap %d KiB before, %d KiB with %d live, %d KiB after; rss %d -> %d KiB",
		BATCH * ROUNDS, secs, BATCH * ROUNDS / secs, lua0 // 1024, peak // 1024, BATCH, lua1 // 1024, rss1, rss2))
	T.ok(peak - lua0 > BATCH * 1024, "live services hold Lua memory")
	T.ok(lua1 - lua0 < 512 * 1024, string.format("Lua memory returned: %d -> %d bytes", lua0, lua1))
	-- RSS is noisy (malloc arenas keep freed pages; it plateaus after a few
	-- rounds), but a leaked service (~100 KiB of Lua state alone) would show:
	-- the rounds after the first may add at most 16 KiB per service spawned.
	-- (An ASan build quarantines freed memory: there only the Lua heap counts.)
	local per = (rss2 - rss1) / (BATCH * (ROUNDS - 1))
	if skynet.getenv "sanitized" ~= "true" then
		T.ok(per < 16, string.format("RSS growth %.2f KiB per service (%d -> %d KiB)", per, rss1, rss2))
	end
end)
