-- Start-up failures: the launcher hears "ERROR", the launching call fails,
-- the node goes on.
local skynet = require "skynet"
local t = require "luac_t"

t.run("failures", function()
	local ok, err = pcall(skynet.newservice, "luac_no_such_file")
	t.ok(not ok, "missing service file fails the launch: " .. tostring(err))
	ok, err = pcall(skynet.newservice, "luac_bad_main")
	t.ok(not ok, "a raising main chunk fails the launch: " .. tostring(err))
	-- a raw LAUNCH still returns an address: the failure comes after init
	local h = skynet.launch("snlua", "luac_bad_main")
	t.ok(h, "LAUNCH returns at once")
	t.ok(skynet.newservice("luac_child"), "launching still works")
end)
