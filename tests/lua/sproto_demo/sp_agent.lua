-- sp_agent: one client's agent. Client packets arrive from the gate as
-- PTYPE_CLIENT messages holding one sproto packet each; requests are
-- answered through the sproto host, and a heartbeat request goes to the
-- client every 5 seconds (the first at once).
local skynet = require "skynet"
local socket = require "skynet.socket"
local sprotoloader = require "sprotoloader"

local WATCHDOG
local host
local send_request
local client_fd

local CMD = {}
local REQUEST = {}

function REQUEST:get()
	print("get", self.what)
	return { result = skynet.call("SIMPLEDB", "lua", "get", self.what) }
end

function REQUEST:set()
	print("set", self.what, self.value)
	skynet.call("SIMPLEDB", "lua", "set", self.what, self.value)
end

function REQUEST:handshake()
	return { msg = "Welcome to skynet, I will send heartbeat every 5 sec." }
end

function REQUEST:quit()
	skynet.call(WATCHDOG, "lua", "close", client_fd)
end

local function send_package(pack)
	socket.write(client_fd, string.pack(">s2", pack))
end

local function request(name, args, response)
	local f = assert(REQUEST[name], name)
	local r = f(args)
	if response then
		return response(r)
	end
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = function(msg, sz)
		return host:dispatch(msg, sz)
	end,
	dispatch = function(fd, _, type, ...)
		assert(fd == client_fd)
		skynet.ignoreret()
		skynet.trace()
		if type == "REQUEST" then
			local ok, result = pcall(request, ...)
			if ok then
				if result then
					send_package(result)
				end
			else
				skynet.error(result)
			end
		else
			error "this agent sends no requests that expect a response"
		end
	end,
}

function CMD.start(conf)
	WATCHDOG = conf.watchdog
	host = sprotoloader.load(1):host "package"
	send_request = host:attach(sprotoloader.load(2))
	client_fd = conf.client
	skynet.fork(function()
		while true do
			send_package(send_request "heartbeat")
			skynet.sleep(500)
		end
	end)
	skynet.call(conf.gate, "lua", "forward", client_fd)
end

function CMD.disconnect()
	skynet.exit()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, command, ...)
		local f = CMD[command]
		skynet.ret(skynet.pack(f(...)))
	end)
end)
