-- socktest_main: checks skynet.socket from inside a service (bad input, UDP over
-- IPv4 and IPv6), then serves TCP for the Python clients of socket_clients.py.
-- The first line a client sends picks a behaviour (see SERVE below).
local skynet = require "skynet"
local socket = require "skynet.socket"
local check = require("testlib").check -- raises; the start function reports it

local function free_port()
	-- listen on port 0 to learn a free port, then close it again
	local id, _, port = socket.listen("127.0.0.1", 0)
	socket.close(id)
	return port
end

local function test_bad_input()
	local port = free_port()
	local id, err = socket.open("127.0.0.1", port)
	check(id == nil and err:find("refused"), "connect to closed port", id, err)
	id, err = socket.open("no-such-host.invalid", 80)
	check(id == nil and err ~= nil, "connect to unknown host", id, err)
	local ok, rerr = pcall(socket.resolve, "no-such-host.invalid")
	check(not ok and rerr:find("no%-such%-host"), "resolve unknown host", ok, rerr)
	local ips = socket.resolve("localhost")
	check(#ips >= 1, "resolve localhost")
	-- write to a closed socket: false, never a crash
	local lid, _, lport = socket.listen("127.0.0.1", 0)
	local accepted = {}
	local waiter
	socket.start(lid, function(cid)
		socket.start(cid)
		accepted[#accepted + 1] = cid
		if waiter then skynet.wakeup(waiter) end
	end)
	local cid = assert(socket.open("127.0.0.1", lport))
	check(socket.write(cid, "ping\n"), "write to open socket")
	socket.close(cid) -- returns once the socket thread has closed it
	check(socket.write(cid, "x") == false, "write to closed socket")
	check(socket.write(123456, "x") == false, "write to unknown id")
	check(socket.invalid(cid), "closed socket is invalid")
	if #accepted == 0 then
		waiter = coroutine.running()
		skynet.wait(waiter)
	end
	check(#accepted == 1, "accepted one")
	for _, a in ipairs(accepted) do
		local line = socket.readline(a)
		check(line == "ping", "accepted side got", line)
		check(socket.read(a) == false, "accepted side sees the close")
		socket.close(a)
	end
	socket.close(lid)
	-- open with "host:port"
	local ok2, e2 = pcall(socket.listen, "256.1.1.1", 0)
	check(not ok2 and e2, "listen on a bad address")
	skynet.error("SOCKTEST bad input ok:", err, rerr)
end

local function test_udp(host)
	local got = {}
	local server
	server = socket.udp(function(data, from)
		local ip, port = socket.udp_address(from)
		check(ip == host, "udp from", ip)
		socket.sendto(server, from, "echo:" .. data)
		got[#got + 1] = port
	end, host, 0)
	-- learn the port through netstat
	-- (the socket thread registers the new socket asynchronously: poll for it)
	local port
	for _ = 1, 200 do
		for _, v in ipairs(socket.netstat()) do
			if v.id == server then
				check(v.type == "UDP", "netstat type", v.type)
				port = tonumber(v.sock:match(":(%d+)$"))
			end
		end
		if port then
			break
		end
		skynet.sleep(1)
	end
	check(port, "udp port in netstat")
	local co = coroutine.running()
	local reply
	local client = socket.udp_dial(host, port, function(data)
		reply = data
		skynet.wakeup(co)
	end)
	socket.write(client, "hello")
	skynet.wait(co)
	check(reply == "echo:hello", "udp reply", reply)
	socket.close(client)
	socket.close(server)
	skynet.error("SOCKTEST udp ok", host)
end

-- A connected pair inside this service: returns client id, server id.
local function pair()
	local lid, _, port = socket.listen("127.0.0.1", 0)
	local sid, waiter
	socket.start(lid, function(id)
		sid = id
		if waiter then
			skynet.wakeup(waiter)
		end
	end)
	local cid = assert(socket.open("127.0.0.1", port))
	if not sid then
		waiter = coroutine.running()
		skynet.wait(waiter)
	end
	socket.close(lid)
	return cid, sid
end

local function test_api()
	check(socket.header("\1\2") == 258, "header 2")
	check(socket.header("\1\0\0\0") == 16777216, "header 4")
	check(not pcall(socket.header, "12345"), "header 5 bytes")

	-- block, lwrite vs write order (a queued low packet never splits a high one)
	local c, s = pair()
	check(socket.start(s) == s, "start accepted")
	socket.lwrite(c, "low1\n")
	socket.write(c, "high\n")
	socket.lwrite(c, { "low", "2\n" })
	check(socket.block(s), "block wakes on data")
	local lines = {}
	for i = 1, 3 do
		lines[i] = socket.readline(s)
	end
	table.sort(lines)
	check(table.concat(lines, ",") == "high,low1,low2", "lwrite/write", table.concat(lines, ","))

	-- onclose fires when the peer goes; shutdown drops at once
	local closed_by
	socket.onclose(s, function(id) closed_by = id end)
	socket.shutdown(c)
	check(socket.read(s) == false, "peer shutdown seen")
	check(closed_by == s, "onclose callback")
	socket.close(s)
	socket.close(c)

	-- limit: unread data past the limit closes the socket
	c, s = pair()
	socket.start(s)
	socket.limit(s, 100)
	socket.write(c, string.rep("z", 1000))
	local r = socket.readline(s, "NEVER") -- the separator never comes; the limit hits
	check(r == false, "limit closes the socket", r)
	socket.close(s)
	socket.close(c)

	-- pause stops reading until the next read resumes it
	c, s = pair()
	socket.start(s)
	socket.pause(s)
	socket.write(c, "after pause\n")
	check(socket.readline(s) == "after pause", "read resumes a paused socket")

	-- abandon: another service starts the socket and owns it from then on
	local taker = skynet.newservice("socktest_taker")
	socket.abandon(s)
	check(socket.invalid(s), "abandoned socket is gone here")
	check(skynet.call(taker, "lua", "take", s), "taker started the socket")
	socket.write(c, "to the taker\n")
	check(skynet.call(taker, "lua", "readline", s) == "to the taker", "taker reads")
	skynet.call(taker, "lua", "close", s)
	check(socket.read(c) == false, "taker closed it")
	socket.close(c)

	-- udp_listen + udp_connect + plain write on a UDP socket
	local got = {}
	local co = coroutine.running()
	local srv
	srv = socket.udp_listen("127.0.0.1", 0, function(data, from)
		got[#got + 1] = data
		socket.sendto(srv, from, data:upper())
	end)
	local sport
	for _ = 1, 200 do
		for _, v in ipairs(socket.netstat()) do
			if v.id == srv then sport = tonumber(v.sock:match(":(%d+)$")) end
		end
		if sport then break end
		skynet.sleep(1)
	end
	local reply
	local cli = socket.udp(function(data) reply = data; skynet.wakeup(co) end)
	socket.udp_connect(cli, "127.0.0.1", sport)
	socket.write(cli, "via connect")
	skynet.wait(co)
	check(reply == "VIA CONNECT" and got[1] == "via connect", "udp_connect round trip", reply)
	socket.close(cli)
	socket.close(srv)
	skynet.error("SOCKTEST api ok")
end


local SERVE = {}

-- echo lines until the client closes
function SERVE.echo(id)
	while true do
		local line = socket.readline(id)
		if not line then
			break
		end
		socket.write(id, line .. "\n")
	end
	socket.close(id)
end

-- echo chunks back (both directions at full speed), then close
function SERVE.bigecho(id)
	while true do
		local data = socket.read(id)
		if not data then
			break
		end
		socket.write(id, data)
	end
	socket.close(id)
end

-- read everything until the client's half close, answer, close
function SERVE.halfclose(id)
	local all = socket.readall(id)
	socket.write(id, string.format("len=%d\n", #all))
	socket.close(id)
end

-- send n bytes and close at once: the close must flush them first
function SERVE.source(id, n)
	n = tonumber(n)
	local chunk = string.rep("s", 65536)
	local sent = 0
	while sent < n do
		local k = math.min(#chunk, n - sent)
		socket.write(id, k == #chunk and chunk or chunk:sub(1, k))
		sent = sent + k
	end
	socket.close(id)
end

-- a fast sender: let n bytes pile up unread (back-pressure pauses the socket),
-- then read them all
function SERVE.slowread(id, n)
	n = tonumber(n)
	skynet.sleep(50)
	local data = socket.read(id, n)
	check(data and #data == n, "slowread size", data and #data)
	socket.write(id, "ok " .. #data .. "\n")
	socket.close(id)
end

-- write n bytes the client does not read yet: WARNING fires, then resets to 0
function SERVE.warn(id, n)
	n = tonumber(n)
	local sizes = {}
	local co = coroutine.running()
	socket.warning(id, function(_, kb)
		sizes[#sizes + 1] = kb
		if kb == 0 then
			skynet.wakeup(co)
		end
	end)
	socket.write(id, string.rep("w", n))
	skynet.wait(co)
	socket.write(id, "warnings " .. table.concat(sizes, ",") .. "\n")
	socket.close(id)
end

local function serve(id, addr)
	socket.start(id)
	local line = socket.readline(id)
	if not line then
		socket.close(id)
		return
	end
	local cmd, arg = line:match("^(%S+)%s*(.*)$")
	local f = SERVE[cmd]
	if not f then
		skynet.error("unknown command", line)
		socket.close(id)
		return
	end
	-- a failed check while serving fails the test, whatever the client sees
	local ok, err = xpcall(f, debug.traceback, id, arg)
	if not ok then
		skynet.error("SOCKTEST FAIL", cmd, err)
	end
end

skynet.start(function()
	local ok, err = xpcall(function()
		test_bad_input()
		test_api()
		test_udp("127.0.0.1")
		test_udp("::1")
	end, debug.traceback)
	if not ok then
		skynet.error("SOCKTEST FAIL", err)
		return
	end
	local lid, addr, port = socket.listen("127.0.0.1", 0, 1024)
	check(addr == "127.0.0.1" and port > 0, "listen result", addr, port)
	socket.start(lid, function(id, from)
		skynet.fork(serve, id, from)
	end)
	skynet.error("SOCKTEST READY " .. port)
	if skynet.getenv "socktest_selfonly" then
		skynet.error("SOCKTEST PASS")
	end
end)
