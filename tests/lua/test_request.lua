-- skynet.request():select([timeout])
local skynet = require "skynet"
local T = require "testlib"

T.main("test_request", function()
	local unknown = 0
	skynet.dispatch_unknown_response(function() unknown = unknown + 1 end)
	local e = skynet.newservice "t_echo"

	local req = skynet.request()
	req:add { e, "lua", "sleep", 20, "slow" }
	req:add { e, "lua", "sleep", 5, "fast" }
	req { e, "lua", "error", "boom" }
	req:add { ".no_such_service", "lua", "echo" }
	local seen = {}
	for r, resp in req:select() do
		local tag = r[5] or r[3]
		if resp == nil then
			seen[#seen + 1] = "invalid"
		elseif resp == false then
			seen[#seen + 1] = "error"
		else
			seen[#seen + 1] = resp[1]
			T.eq(resp.n, 1, "resp is a packed table")
		end
	end
	T.same(seen, { "invalid", "error", "fast", "slow" }, "select order")

	-- with a timeout only the quick answers come
	local t0 = skynet.now()
	local got = {}
	for r, resp in skynet.request { e, "lua", "sleep", 100, "late" }:add { e, "lua", "echo", "now" }:select(20) do
		got[#got + 1] = resp[1]
	end
	T.same(got, { "now" }, "select timeout")
	T.ok(skynet.now() - t0 < 60, "select returned at its timeout")

	-- leaving the loop early abandons the rest
	local first
	for r, resp in skynet.request { e, "lua", "sleep", 1, "a" }:add { e, "lua", "sleep", 30, "b" }:select() do
		first = resp[1]
		break
	end
	T.eq(first, "a", "break after the first")
	skynet.sleep(150) -- the late replies arrive and must be swallowed
	T.eq(unknown, 0, "abandoned replies are swallowed")
	T.eq(skynet.call(e, "lua", "echo", "alive"), "alive", "still fine")
end)
