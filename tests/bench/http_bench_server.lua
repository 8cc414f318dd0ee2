-- http_bench_server: the Skiff side of http.bench.py.  One service answers
-- GET /hello ("hello", keep-alive, http.httpd); another echoes WebSocket
-- messages (http.websocket).  Each connection runs in its own coroutine of
-- its service; the two ports are printed as "BENCH HTTP <port> WS <port>".
local skynet = require "skynet"
local socket = require "skynet.socket"

local mode = ...

if mode == "http" then
	local httpd = require "http.httpd"
	local sockethelper = require "http.sockethelper"
	local function serve(id)
		socket.start(id)
		local read, write = sockethelper.readfunc(id), sockethelper.writefunc(id)
		while true do
			local code, _, _, header, _, version = httpd.read_request(read, 65536)
			if code ~= 200 then
				if code then
					httpd.write_response(write, code)
				end
				break
			end
			httpd.write_response(write, 200, "hello")
			if not httpd.keepalive(header, version) then
				break
			end
		end
		socket.close(id)
	end
	skynet.start(function()
		local listen, _, port = socket.listen("127.0.0.1", 0)
		socket.start(listen, function(id) skynet.fork(serve, id) end)
		skynet.dispatch("lua", function() skynet.retpack(port) end)
	end)
elseif mode == "ws" then
	local websocket = require "http.websocket"
	local handle = {}
	function handle.message(id, msg, kind)
		websocket.write(id, msg, kind)
	end
	skynet.start(function()
		local listen, _, port = socket.listen("127.0.0.1", 0)
		socket.start(listen, function(id, addr)
			skynet.fork(websocket.accept, id, handle, "ws", addr)
		end)
		skynet.dispatch("lua", function() skynet.retpack(port) end)
	end)
else
	skynet.start(function()
		local http = skynet.newservice(SERVICE_NAME, "http")
		local ws = skynet.newservice(SERVICE_NAME, "ws")
		skynet.error(string.format("BENCH HTTP %d WS %d", skynet.call(http, "lua"), skynet.call(ws, "lua")))
	end)
end
