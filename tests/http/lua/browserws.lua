-- browserws: what a browser talks to in tests/http/test_browser_ws.py.
--   an httpd (http.httpd) serving the test page (the file named by the config
--   key browserws_page) at / and 404 elsewhere;
--   a Lua WebSocket echo (http.websocket.accept) over ws and over wss (the
--   certificate from certfile / keyfile);
--   the C gate in WebSocket mode (wsgate_echo, from tests/socket/lua).
-- Prints "BROWSERWS READY http=<port> ws=<port> wss=<port>" and one line per
-- WebSocket event, which the test reads.
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"
local websocket = require "http.websocket"

local page
do
	local f = assert(io.open(assert(skynet.getenv "browserws_page", "browserws_page"), "rb"))
	page = f:read "a"
	f:close()
end

local function serve_http(id)
	socket.start(id)
	local read, write = sockethelper.readfunc(id), sockethelper.writefunc(id)
	local code, url = httpd.read_request(read, 8192)
	if code then
		local path = url:match "^[^?]*"
		local ok, err
		if code ~= 200 then
			ok, err = httpd.write_response(write, code)
		elseif path == "/" then
			ok, err = httpd.write_response(write, 200, page,
				{ ["content-type"] = "text/html; charset=utf-8" })
		else
			ok, err = httpd.write_response(write, 404, "no such page")
		end
		skynet.error("BROWSERWS http", path, code)
		if not ok then
			skynet.error("BROWSERWS http write failed", err)
		end
	end
	socket.close(id)
end

local function ws_handle(tag)
	local h = {}
	function h.message(id, msg, op)
		websocket.write(id, msg, op)
	end
	function h.close(id, code, reason)
		skynet.error(string.format("BROWSERWS %s close %d code=%s", tag, id, tostring(code)))
	end
	function h.error(id, err)
		skynet.error(string.format("BROWSERWS %s error %d %s", tag, id, tostring(err)))
	end
	return h
end

local function listen(fn)
	local fd, _, port = socket.listen("127.0.0.1", 0)
	socket.start(fd, function(id, addr)
		skynet.fork(fn, id, addr)
	end)
	return port
end

skynet.start(function()
	local http = listen(serve_http)
	local ws = listen(function(id, addr)
		local ok, err = websocket.accept(id, ws_handle "ws", "ws", addr)
		if not ok then
			skynet.error("BROWSERWS ws accept failed: " .. tostring(err))
		end
	end)
	local wss = listen(function(id, addr)
		local ok, err = websocket.accept(id, ws_handle "wss", "wss", addr)
		if not ok then
			skynet.error("BROWSERWS wss accept failed: " .. tostring(err))
		end
	end)
	skynet.newservice "wsgate_echo"
	skynet.error(string.format("BROWSERWS READY http=%d ws=%d wss=%d", http, ws, wss))
end)
