-- httptest_wsclient: the http.websocket client against a Python websockets
-- echo server started by the runner (config key httptest_peer_port).
local skynet = require "skynet"
local websocket = require "http.websocket"
local T = require "httptest_lib"
local check = T.check

T.run("httptest_wsclient", function()
	local port = T.peer_port()
	-- with the config key httptest_tls: wss, the server's certificate checked
	local tls = skynet.getenv "httptest_tls"
	local scheme = tls and "wss" or "ws"
	local host = tls and "localhost" or "127.0.0.1"
	if tls then
		websocket.cafile = skynet.getenv "httptest_cafile"
	end
	local url = scheme .. "://" .. host .. ":" .. port .. "/room/7?x=1"
	local id = websocket.connect(url, { ["X-Client"] = "skiff", ["Sec-WebSocket-Protocol"] = "zzz, chat" }, 300)
	check(websocket.subprotocol(id) == "chat", "subprotocol", websocket.subprotocol(id))
	check(websocket.addrinfo(id) == host .. ":" .. port, "addrinfo", websocket.addrinfo(id))
	websocket.write(id, "path?")
	local msg, kind = websocket.read(id)
	check(msg == "/room/7?x=1 skiff" and kind == "text", "path and header seen by the server", msg)
	websocket.write(id, "héllo")
	msg, kind = websocket.read(id)
	check(msg == "héllo" and kind == "text", "text echo", msg, kind)
	local blob = string.rep("\0\1\2\255", 50000)
	websocket.write(id, blob, "binary")
	msg, kind = websocket.read(id)
	check(msg == blob and kind == "binary", "binary echo 200 KB", #tostring(msg), kind)
	-- a fragmented message each way
	websocket.write(id, string.rep("abc", 1000), "text", nil, 100)
	msg = websocket.read(id)
	check(msg == string.rep("abc", 1000), "fragmented echo", #tostring(msg))
	websocket.write(id, "frag please")
	msg = websocket.read(id)
	check(msg == "py-frag-ments", "fragmented from the server", msg)
	-- a ping from the server is answered inside read; ours is answered by it
	websocket.write(id, "ping please")
	msg = websocket.read(id)
	check(msg == "ping please", "read past a ping", msg)
	websocket.ping(id, "hi")
	websocket.write(id, "after ping")
	check(websocket.read(id) == "after ping", "read past a pong")
	-- the server closes with a code
	websocket.write(id, "close please")
	local ok, reason, code = websocket.read(id)
	check(ok == false and code == 4003 and reason == "peer says bye", "server close", ok, reason, code)
	check(websocket.is_close(id), "closed after the close frame")
	-- we close with a code
	id = websocket.connect(url)
	check(websocket.subprotocol(id) == nil, "no subprotocol asked")
	websocket.write(id, "x")
	check(websocket.read(id) == "x", "second connection")
	websocket.close(id, 1000, "done")
	check(websocket.is_close(id), "closed by us")
	-- failures raise: nothing listening, wrong scheme, an HTTP (not WebSocket) answer
	T.raises("connect failed", function() websocket.connect("ws://127.0.0.1:1/", nil, 100) end)
	T.raises("not a ws:// url", function() websocket.connect("http://127.0.0.1:" .. port .. "/") end)
	if tls then
		-- plain ws to a TLS port: the server's TLS handshake refuses the HTTP
		-- upgrade and closes the connection
		T.raises("[Socket Error]", function() websocket.connect("ws://127.0.0.1:" .. port .. "/", nil, 100) end)
	else
		-- wss to a plain port: the TLS handshake fails
		T.raises("tls", function() websocket.connect("wss://127.0.0.1:" .. port .. "/", nil, 300) end)
	end
end)
