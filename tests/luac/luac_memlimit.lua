-- skynet.memlimit in the main chunk caps the service's Lua heap.
local skynet = require "skynet"
local t = require "luac_t"

skynet.memlimit(8 * 1024 * 1024)

t.run("memlimit", function()
	t.eq(skynet.memlimit, nil, "memlimit is set once")
	local ok, err = pcall(function()
		local big = {}
		for i = 1, 1e8 do
			big[i] = string.rep("x", 100) .. i
		end
	end)
	t.ok(not ok, "growing past the limit fails")
	t.ok(tostring(err):find("not enough memory"), "memory error: " .. tostring(err))
	collectgarbage()
	local small = {}
	for i = 1, 1000 do small[i] = tostring(i) end
	t.eq(#small, 1000, "allocates again after freeing")
	t.ok(collectgarbage("count") < 8 * 1024, "under the limit")
end)
