-- socktest_channel: skynet.socketchannel against socktest_scserver: order mode
-- with auth, multi-part replies, a mid-response disconnect and a server restart
-- (reconnect), backup hosts, and session mode with out-of-order replies.
local skynet = require "skynet"
local socket = require "skynet.socket"
local sc = require "skynet.socketchannel"
local T = require("testlib").suite("SOCKTEST")
local check = T.check

local function readline(sock)
	return true, sock:readline()
end

local function multi(sock)
	local line = sock:readline()
	if line == "." then
		return true, line, false
	end
	return true, line, true -- more parts follow
end

local function closed_port()
	local id, _, port = socket.listen("127.0.0.1", 0)
	socket.close(id)
	return port
end

local function test_order(port)
	local auths = 0
	local ch = sc.channel {
		host = "127.0.0.1",
		port = closed_port(), -- nobody there: the backup host answers
		backup = { { host = "127.0.0.1", port = port } },
		nodelay = true,
		auth = function(c)
			auths = auths + 1
			local r = c:request("AUTH secret\n", readline)
			check(r == "OK", "auth reply", r)
		end,
	}
	check(ch:request("ECHO hello\n", readline) == "hello", "order echo")
	-- several requests in flight from different coroutines: answered in order
	local results, done = {}, 0
	local me = coroutine.running()
	for i = 1, 20 do
		skynet.fork(function()
			results[i] = ch:request("ECHO n" .. i .. "\n", readline)
			done = done + 1
			if done == 20 then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
	for i = 1, 20 do
		check(results[i] == "n" .. i, "order result", i, results[i])
	end
	local parts = ch:request("MULTI 3\n", multi)
	check(type(parts) == "table" and #parts == 4 and parts[1] == "+part1" and parts[4] == ".",
		"multi-part reply")
	-- the server dies in the middle of a reply: the request fails with socket error
	local ok, err = pcall(ch.request, ch, "DROP\n", readline)
	check(not ok and err == sc.error, "mid-response disconnect", ok, tostring(err))
	check(tostring(err) == "[Error: socket]", "error text")
	-- the next request reconnects (and authenticates again)
	check(ch:request("ECHO again\n", readline) == "again", "reconnect echo")
	check(auths == 2, "auth count", auths)
	ch:close()
	skynet.error("SOCKTEST order mode ok")
end

local function test_restart(server, port)
	local ch = sc.channel {
		host = "127.0.0.1", port = port,
		auth = function(c) check(c:request("AUTH secret\n", readline) == "OK") end,
	}
	ch:connect(true)
	check(ch:request("ECHO before\n", readline) == "before", "before restart")
	skynet.call(server, "lua", "restart") -- the server goes away for half a second
	local ok = pcall(ch.request, ch, "ECHO lost\n", readline)
	check(not ok, "request during the restart fails")
	ch:connect() -- retries with back-off until the server is back
	check(ch:request("ECHO after\n", readline) == "after", "after restart")
	ch:close()
	local ok2, err2 = pcall(ch.request, ch, "ECHO closed\n", readline)
	check(not ok2, "request on a closed channel fails", err2)
	skynet.error("SOCKTEST reconnect ok")
end

local function test_session(port)
	local ch = sc.channel {
		host = "127.0.0.1", port = port,
		response = function(sock)
			local line = sock:readline()
			local session, text = line:match("^(%d+) (.*)$")
			return tonumber(session), true, text
		end,
	}
	-- later requests get earlier replies (delays decrease)
	local order, results = {}, {}
	local me = coroutine.running()
	local n = 5
	for i = 1, n do
		skynet.fork(function()
			results[i] = ch:request(string.format("%d %d r%d\n", i, (n - i) * 5, i), i)
			order[#order + 1] = i
			if #order == n then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
	for i = 1, n do
		check(results[i] == "r" .. i, "session result", i, results[i])
	end
	check(order[1] == n and order[n] == 1, "replies came out of order", table.concat(order, ","))
	-- disconnect mid-response: every waiter fails, then the channel reconnects
	local waiting_failed = false
	skynet.fork(function()
		local ok = pcall(ch.request, ch, "100 200 slow\n", 100)
		waiting_failed = not ok
	end)
	skynet.yield()
	local ok, err = pcall(ch.request, ch, "101 0 DROP\n", 101)
	check(not ok and err == sc.error, "session drop", tostring(err))
	skynet.yield()
	check(waiting_failed, "other waiters fail too")
	check(ch:request("7 0 back\n", 7) == "back", "session reconnect")
	ch:close()
	skynet.error("SOCKTEST session mode ok")
end

T.run("socktest_channel", function()
	local server = skynet.newservice("socktest_scserver")
	local order_port, session_port = skynet.call(server, "lua", "ports")
	test_order(order_port)
	test_session(session_port)
	test_restart(server, order_port)
end)
