-- test_sproto_demo: skynet's sproto example as a test. Starts the schema
-- loader, the key-value store and the watchdog (which starts the gate),
-- prints the port, then waits until the two clients the test runs
-- (sproto_client.py and sproto_client.lua) have quit.
local skynet = require "skynet"
local T = require "testlib"

T.main("test_sproto_demo", function()
	skynet.uniqueservice("sp_protoloader")
	skynet.newservice("sp_simpledb")
	local watchdog = skynet.newservice("sp_watchdog")
	local addr, port = skynet.call(watchdog, "lua", "start", {
		address = "127.0.0.1", port = 0, maxclient = 64, nodelay = true,
	})
	skynet.error("Watchdog listen on " .. addr .. ":" .. port)
	print("SPROTO DEMO PORT " .. port)
	local clients = tonumber(skynet.getenv "sproto_clients" or 2)
	T.eq(skynet.call(watchdog, "lua", "wait_closed", clients), clients, "clients that quit")
end)
