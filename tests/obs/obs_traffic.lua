-- The start service of the obs tests: makes traffic that the metrics must see.
--   obs_role = "single"  an echo service called in a loop, timers, and a TCP
--                        connection to ourselves carrying bytes both ways
--   obs_role = "cluster" (harbor mode) registers the global name echo<id>;
--                        node 1 also calls echo2 and echo3 in a loop (failures
--                        are expected once a node is killed, and counted)
-- Logs "OBS READY <id>" once its traffic runs.
local skynet = require "skynet"
local socket = require "skynet.socket"

local role = skynet.getenv "obs_role" or "single"
local id = tonumber(skynet.getenv "harbor" or 0) or 0

local function echo_loop(target)
	while true do
		pcall(skynet.call, target, "lua", "echo", string.rep("x", 100))
		skynet.sleep(2)
	end
end

local function socket_traffic()
	local lid, _, port = socket.listen("127.0.0.1", 0)
	socket.start(lid, function(fd)
		socket.start(fd)
		while true do
			local data = socket.read(fd)
			if not data then break end
			socket.write(fd, data)
		end
		socket.close(fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	while true do
		socket.write(fd, string.rep("y", 1000))
		socket.read(fd, 1000)
		skynet.sleep(5)
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, arg)
		if cmd == "echo" then
			skynet.ret(skynet.pack(arg))
		end
	end)
	if role == "single" then
		local echo = skynet.self()
		skynet.fork(echo_loop, echo)
		skynet.fork(socket_traffic)
		require("skynet.harbor").globalname("OBSECHO")
		skynet.error("OBS READY " .. id)
		return
	end
	local harbor = require "skynet.harbor"
	harbor.globalname("echo" .. id)
	if id == 1 then
		local peers = {}
		for _, peer in ipairs { 2, 3 } do
			peers[peer] = harbor.queryname("echo" .. peer)
		end
		for _, peer in ipairs { 2, 3 } do
			skynet.fork(echo_loop, peers[peer])
		end
	end
	skynet.error("OBS READY " .. id)
end)
