-- httptest_ws: a WebSocket echo server (http.websocket.accept), driven by
-- Python's websockets and raw sockets (tests/http/http_clients.py).
-- Each message comes back with its own type; three texts make it act:
--   "frag please"   the answer "one-two-three" goes out as 3 frames
--   "close please"  the server closes with code 4002 "as asked"
--   "ping please"   the server pings with payload "srv" first
-- With the config key httptest_tls set, it serves wss (certfile/keyfile).
-- The subprotocols spoken are "echo" and "chat"; every callback logs a line
-- the client checks.
local skynet = require "skynet"
local socket = require "skynet.socket"
local websocket = require "http.websocket"

local handle = {}

function handle.handshake(id, header, url)
	skynet.error(string.format("ws handshake %d url=%s x-test=%s proto=%s", id, url,
		tostring(header["x-test"]), tostring(websocket.subprotocol(id))))
end

function handle.message(id, msg, op)
	if msg == "frag please" then
		websocket.write(id, "one-two-three", "text", nil, 4)
	elseif msg == "close please" then
		websocket.close(id, 4002, "as asked")
	elseif msg == "ping please" then
		websocket.ping(id, "srv")
		websocket.write(id, msg, op)
	else
		websocket.write(id, msg, op)
	end
end

function handle.ping(id, payload)
	skynet.error(string.format("ws ping %d %s", id, payload))
end

function handle.pong(id, payload)
	skynet.error(string.format("ws pong %d %s", id, payload))
end

function handle.close(id, code, reason)
	skynet.error(string.format("ws close %d code=%s reason=%s", id, tostring(code), tostring(reason)))
end

function handle.error(id, err)
	skynet.error(string.format("ws error %d %s", id, tostring(err)))
end

skynet.start(function()
	local listen, _, port = socket.listen("127.0.0.1", 0)
	socket.start(listen, function(id, addr)
		skynet.fork(function()
			local ok, err = websocket.accept(id, handle, skynet.getenv "httptest_tls" and "wss" or "ws", addr, { protocols = { "echo", "chat" } })
			if not ok then
				skynet.error("ws accept failed: " .. tostring(err))
			end
		end)
	end)
	skynet.error("HTTPTEST READY " .. port)
end)
