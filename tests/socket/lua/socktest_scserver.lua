-- socktest_scserver: servers for the socketchannel test.
--  order port: line protocol; the first line must be "AUTH secret" (answered
--    "OK"), then "ECHO x" -> "x", "MULTI n" -> n lines "+part<i>" then ".",
--    "DROP" -> half a reply, then the connection closes.
--  session port: "<session> <delay_cs> <text>" -> "<session> <text>" after the
--    delay, so replies overtake each other; "<session> 0 DROP" closes mid-reply.
-- Lua command "restart": close everything, listen again on the same order port
-- after half a second (the channel must reconnect).
local skynet = require "skynet"
local socket = require "skynet.socket"

local order_port, session_port
local order_listen
local conns = {}

local function serve_order(id)
	socket.start(id)
	conns[id] = true
	local first = socket.readline(id)
	if first ~= "AUTH secret" then
		socket.write(id, "DENIED\n")
		socket.close(id)
		conns[id] = nil
		return
	end
	socket.write(id, "OK\n")
	while true do
		local line = socket.readline(id)
		if not line then
			break
		end
		local cmd, arg = line:match("^(%S+)%s*(.*)$")
		if cmd == "ECHO" then
			socket.write(id, arg .. "\n")
		elseif cmd == "MULTI" then
			for i = 1, tonumber(arg) do
				socket.write(id, "+part" .. i .. "\n")
			end
			socket.write(id, ".\n")
		elseif cmd == "DROP" then
			socket.write(id, "half a rep")
			break
		end
	end
	socket.close(id)
	conns[id] = nil
end

local function serve_session(id)
	socket.start(id)
	conns[id] = true
	while true do
		local line = socket.readline(id)
		if not line then
			break
		end
		local session, delay, text = line:match("^(%d+) (%d+) (.*)$")
		if text == "DROP" then
			socket.write(id, session .. " partial")
			break
		end
		skynet.fork(function()
			skynet.sleep(tonumber(delay))
			socket.write(id, session .. " " .. text .. "\n")
		end)
	end
	socket.close(id)
	conns[id] = nil
end

local function listen_order(port)
	local id, _, p = socket.listen("127.0.0.1", port)
	socket.start(id, function(cid) skynet.fork(serve_order, cid) end)
	order_listen = id
	return p
end

skynet.start(function()
	order_port = listen_order(0)
	local sid, _, sp = socket.listen("127.0.0.1", 0)
	session_port = sp
	socket.start(sid, function(cid) skynet.fork(serve_session, cid) end)
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "ports" then
			skynet.retpack(order_port, session_port)
		elseif cmd == "restart" then
			socket.close(order_listen)
			for id in pairs(conns) do
				socket.shutdown(id)
			end
			skynet.retpack(true)
			skynet.sleep(50)
			listen_order(order_port)
			skynet.error("scserver: order port back")
		end
	end)
end)
