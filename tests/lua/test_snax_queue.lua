-- snax: a unique service whose accept.sleep may hold a skynet.queue lock that
-- accept.hello also takes.  Ten locked sleeps, each followed by a hello, then
-- ten unlocked ones: the unlocked sleeps print at once, each hello waits for
-- the locked sleep before it.  run_test.py checks the printed order against
-- test_snax_queue.expect.
local skynet = require "skynet"
local snax = require "skynet.snax"
local T = require "testlib"

T.main("test_snax_queue", function()
	local ps = snax.uniqueservice("pingserver", "test queue")
	for i = 1, 10 do
		ps.post.sleep(true, i * 10)
		ps.post.hello()
	end
	for i = 1, 10 do
		ps.post.sleep(false, i * 10)
		ps.post.hello()
	end
	T.eq(snax.queryservice("pingserver").handle, ps.handle, "queryservice finds the unique one")
	T.eq(snax.uniqueservice("pingserver"), ps, "one object per handle")
	local g = snax.globalservice("pingserver", "global one")
	T.ok(g.handle ~= ps.handle, "the global one is another service")
	T.eq(snax.queryglobal("pingserver"), g, "queryglobal finds it")
	snax.kill(g, "global")
	-- the locked sleeps add up to 5.5 s
	T.eventually(function() return ps.req.count() == 20 end, "twenty hellos", 2000)
	snax.kill(ps, "done")
end)
