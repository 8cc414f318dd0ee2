-- sp_watchdog: owns the gate; starts an sp_agent for each connection and
-- closes it when the client leaves. "wait_closed", n returns once n agents
-- have been closed (the test waits for its clients that way).
local skynet = require "skynet"

local gate
local agents = {}
local closed, waiting = 0, {}
local CMD, SOCKET = {}, {}

local function close_agent(fd)
	local a = agents[fd]
	agents[fd] = nil
	if a then
		skynet.call(gate, "lua", "kick", fd)
		skynet.send(a, "lua", "disconnect")
		closed = closed + 1
		for i = #waiting, 1, -1 do
			local w = waiting[i]
			if closed >= w.n then
				table.remove(waiting, i)
				skynet.wakeup(w.co)
			end
		end
	end
end

function SOCKET.open(fd, addr)
	skynet.error("New client from : " .. addr)
	agents[fd] = skynet.newservice("sp_agent")
	skynet.call(agents[fd], "lua", "start", { gate = gate, client = fd, watchdog = skynet.self() })
end

function SOCKET.close(fd)
	close_agent(fd)
end

function SOCKET.error(fd, msg)
	skynet.error("socket error", fd, msg)
	close_agent(fd)
end

function SOCKET.warning() end
function SOCKET.data() end

function CMD.start(conf)
	return skynet.call(gate, "lua", "open", conf)
end

function CMD.close(fd)
	close_agent(fd)
end

function CMD.wait_closed(n)
	if closed < n then
		local co = coroutine.running()
		waiting[#waiting + 1] = { n = n, co = co }
		skynet.wait(co)
	end
	return closed
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, sub, ...)
		if cmd == "socket" then
			SOCKET[sub](...)
		else
			local f = assert(CMD[cmd], cmd)
			skynet.ret(skynet.pack(f(sub, ...)))
		end
	end)
	gate = skynet.newservice("gate")
end)
