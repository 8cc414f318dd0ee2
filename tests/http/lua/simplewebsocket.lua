-- simplewebsocket: the shape of skynet's examples/simplewebsocket.lua,
-- written for these tests: 20 agents run http.websocket.accept with a handle
-- that prints every event and echoes messages; the main service also starts
-- (with skynet.service.new) an echo client that writes "hello world!", reads
-- the echo and pings, once a second.  Port chosen at run time.
local skynet = require "skynet"
local socket = require "skynet.socket"
local service = require "skynet.service"
local websocket = require "http.websocket"

local MODE = ...

if MODE == "agent" then
	local handle = {}

	function handle.connect(id)
		print("ws connect from: " .. tostring(id))
	end

	function handle.handshake(id, header, url)
		print("ws handshake from: " .. tostring(id), "url", url, "addr:", websocket.addrinfo(id))
		print("----header-----")
		for k, v in pairs(header) do
			print(k, v)
		end
		print("--------------")
	end

	function handle.message(id, msg, kind)
		assert(kind == "binary" or kind == "text")
		websocket.write(id, msg)
	end

	function handle.ping(id)
		print("ws ping from: " .. tostring(id) .. "\n")
	end

	function handle.pong(id)
		print("ws pong from: " .. tostring(id))
	end

	function handle.close(id, code, reason)
		print("ws close from: " .. tostring(id), code, reason)
	end

	function handle.error(id)
		print("ws error from: " .. tostring(id))
	end

	skynet.start(function()
		skynet.dispatch("lua", function(_, _, id, protocol, addr)
			local ok, err = websocket.accept(id, handle, protocol, addr)
			if not ok then
				print(err)
			end
		end)
	end)
else
	-- runs in its own service: only _ENV may be an upvalue
	local function echo_client(protocol, port)
		local skynet = require "skynet"
		local websocket = require "http.websocket"
		local id = websocket.connect(string.format("%s://127.0.0.1:%d/test_websocket", protocol, port))
		while true do
			local msg = "hello world!"
			websocket.write(id, msg)
			print(">: " .. msg)
			local resp, reason = websocket.read(id)
			print("<: " .. (resp or "[Close] " .. tostring(reason)))
			if not resp then
				print("echo server close.")
				break
			end
			websocket.ping(id)
			skynet.sleep(100)
		end
	end

	skynet.start(function()
		local agents = {}
		for i = 1, 20 do
			agents[i] = skynet.newservice(SERVICE_NAME, "agent")
		end
		local next_agent = 1
		local protocol = "ws"
		local id, _, port = socket.listen("127.0.0.1", 0)
		skynet.error(string.format("Listen websocket port %d protocol:%s", port, protocol))
		socket.start(id, function(fd, addr)
			print(string.format("accept client socket_id: %s addr:%s", fd, addr))
			skynet.send(agents[next_agent], "lua", fd, protocol, addr)
			next_agent = next_agent % #agents + 1
		end)
		skynet.error("HTTPTEST READY " .. port)
		service.new("websocket_echo_client", echo_client, protocol, port)
	end)
end
