-- skynet.memlimit: allocations beyond the limit fail inside the service only.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_memlimit", function()
	local s = skynet.newservice "t_memlimit"
	local ok, n = skynet.call(s, "lua", "alloc", 2)
	T.eq(ok, true, "2 MiB fits") T.eq(n, "32", "2 MiB allocated")
	local ok2, err2, kb = skynet.call(s, "lua", "alloc", 16)
	T.eq(ok2, false, "16 MiB refused")
	T.ok(string.find(err2, "memory", 1, true), "a memory error: " .. err2)
	T.ok(kb < 8 * 1024, "memory released after the failure")
	local ok3 = skynet.call(s, "lua", "alloc", 1)
	T.eq(ok3, true, "service still works")
	-- only once, only in the main chunk
	T.eq(skynet.call(s, "lua", "once"), true, "memlimit can be set once")
end)
