-- metrics — serves this node's metrics in the Prometheus text format over
-- HTTP, and the node's health probes.
-- Args: `[ip] port` (bootstrap passes them from the config key `metrics`,
-- "host:port" or a bare port on 127.0.0.1); port 0 picks a free port.  The
-- bound address is logged as "Start metrics at IP:PORT".
--
-- HTTP/1.1, one request per connection:
--   GET /alive  (or HEAD)   200 while the node's scheduler runs (this answer
--                           is itself made by a worker; links and the master
--                           play no part).  No token.
--   GET /ready  (or HEAD)   200 once the start service finished (bootstrap
--                           starts it only after the harbor joined the
--                           master) and the node is not draining; 503 before,
--                           and while the local service `.shutdown` answers
--                           "state" with "draining" (or does not answer).  No
--                           token.
--   GET /metrics (or HEAD)  200, Content-Type: text/plain; version=0.0.4
--   GET /                   200, a one-line pointer to /metrics
--   another path            404;  another method  405;  a malformed request  400
--   (a body, or a header over MAX_HEADER bytes: 413)
-- Everything but the probes needs `Authorization: Bearer <token>` with the
-- token of the file named by the config key `metrics_token` (mode 0600 or
-- 0400, at least 16 characters; Prometheus: `authorization: credentials_file`)
-- [401 and nothing is rendered].  Without metrics_token (or with a file that
-- is refused, logged at start) /metrics answers 403: the probes still work.
-- Requests are read and answers written by http.admin (on http.internal's
-- parser), the HTTP helper shared with the debug console.
-- Every answer has Content-Length and "Connection: close", and the connection
-- is closed after it.  Nothing here blocks the node: sockets are skynet
-- sockets, each connection runs in its own coroutine, a request that has not
-- arrived whole within REQUEST_TIMEOUT is dropped, at most MAX_HEADER bytes of
-- request are buffered, and MAX_CONNECTIONS connections are served at once.
-- Socket byte counters are folded in every POLL_INTERVAL (see nodemetrics).
local skynet = require "skynet"
local calltimeout = require "skynet.calltimeout"
local socket = require "skynet.socket"
local nodemetrics = require "skynet.nodemetrics"
local admin = require "http.admin"
local sockethelper = require "http.sockethelper"
local secretfile = require "skynet.secretfile"
require "skynet.manager"

local args = table.pack(...)
local ip = args.n >= 2 and args[1] or "127.0.0.1"
local port = tonumber(args[args.n]) or 0

local REQUEST_TIMEOUT = 500   -- cs: whole request, headers included
local LINGER_TIMEOUT = 1000   -- cs: then the socket is shut down whatever its state
local MAX_HEADER = 8192       -- bytes of request line + headers
local MAX_CONNECTIONS = 64
local POLL_INTERVAL = 300     -- cs

local AUTH_FAIL_DELAY = 20    -- cs before a 401 is answered: slows guessing
local SHUTDOWN_TIMEOUT = 100  -- cs to wait for `.shutdown` to say its state

local token          -- metrics_token's token; nil: /metrics closed
local closed_reason  -- why /metrics is closed (nil when token is set)
local started = false -- bootstrap said the start service finished

local collector = nodemetrics.new { topn = tonumber(skynet.getenv "metrics_topn") or 10 }
local connections = 0

local function respond(fd, status, ctype, body, head_only, header)
	admin.respond(sockethelper.writefunc(fd), status, ctype, body, { head_only = head_only, header = header })
end

-- 200 or 503, and a one-line reason.
local function readiness()
	if not started then
		return 503, "starting: the start service has not finished"
	end
	if skynet.localname ".shutdown" then
		local ok, state = calltimeout(SHUTDOWN_TIMEOUT, ".shutdown", "lua", "state")
		if not ok then
			return 503, "the shutdown service did not say its state: " .. tostring(state)
		end
		if state ~= "running" then
			return 503, tostring(state)
		end
	end
	return 200, "ready"
end

local function serve(fd, addr)
	local rok, req, code = pcall(admin.read_request, sockethelper.readfunc(fd), MAX_HEADER)
	if not rok then
		return -- closed or timed out before a whole request: nothing to answer
	end
	if not req then
		respond(fd, code, "text/plain; charset=utf-8", "bad request\n")
		return
	end
	local method = req.method
	local h = req.header
	if h["content-length"] ~= nil and h["content-length"] ~= "0" or h["transfer-encoding"] ~= nil then
		respond(fd, 413, "text/plain; charset=utf-8", "no body expected\n")
		return
	end
	local path = string.match(req.target, "^[^?#]*")
	local head_only = method == "HEAD"
	if method ~= "GET" and method ~= "HEAD" then
		respond(fd, 405, "text/plain; charset=utf-8", "only GET and HEAD\n", false, { allow = "GET, HEAD" })
		return
	end
	if path == "/alive" then
		respond(fd, 200, "text/plain; charset=utf-8", "alive\n", head_only)
		return
	elseif path == "/ready" then
		local status, why = readiness()
		respond(fd, status, "text/plain; charset=utf-8", why .. "\n", head_only)
		return
	end
	if not token then
		respond(fd, 403, "text/plain; charset=utf-8", closed_reason .. "\n", head_only)
		return
	end
	local denied, reason = admin.guard(req, { token = token, equal = secretfile.equal })
	if denied then
		skynet.sleep(AUTH_FAIL_DELAY)
		skynet.error(string.format("metrics: refused %s %s from %s: %d %s", method, path, tostring(addr), denied, reason))
		respond(fd, denied, "text/plain; charset=utf-8", reason .. "\n", head_only, { ["www-authenticate"] = "Bearer" })
	elseif path == "/metrics" then
		local ok, text = pcall(collector.render, collector)
		if ok then
			respond(fd, 200, "text/plain; version=0.0.4; charset=utf-8", text, head_only)
		else
			skynet.error("metrics: render failed: " .. tostring(text))
			respond(fd, 503, "text/plain; charset=utf-8", "metrics unavailable\n", head_only)
		end
	elseif path == "/" then
		respond(fd, 200, "text/plain; charset=utf-8", "skiff metrics: GET /metrics\n", head_only)
	else
		respond(fd, 404, "text/plain; charset=utf-8", "not found; try /metrics\n", head_only)
	end
end

local function connection(fd, addr)
	if connections >= MAX_CONNECTIONS then
		socket.start(fd)
		respond(fd, 503, "text/plain; charset=utf-8", "busy\n")
		socket.close(fd)
		return
	end
	connections = connections + 1
	local done = false
	skynet.timeout(REQUEST_TIMEOUT, function()
		if not done then
			socket.shutdown(fd) -- wakes the reader with a close
		end
	end)
	-- a scraper that never reads its answer must not keep the socket forever
	skynet.timeout(LINGER_TIMEOUT, function() socket.shutdown(fd) end)
	socket.start(fd)
	socket.limit(fd, MAX_HEADER * 2)
	local ok, err = pcall(serve, fd, addr)
	done = true
	if not ok then
		skynet.error(string.format("metrics: %s: %s", addr, tostring(err)))
	end
	socket.close(fd)
	connections = connections - 1
end

local function poller()
	while true do
		skynet.sleep(POLL_INTERVAL)
		local ok, err = pcall(collector.poll, collector)
		if not ok then
			skynet.error("metrics: socket poll failed: " .. tostring(err))
		end
	end
end

skynet.start(function()
	-- "lua" TEXT: the exposition text, for the console's `metrics` command
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "TEXT" then
			skynet.ret(skynet.pack(collector:render()))
		elseif cmd == "STARTED" then
			started = true -- from bootstrap, once the start service finished
		else
			error("metrics: unknown command " .. tostring(cmd))
		end
	end)
	local path = skynet.getenv "metrics_token"
	if path and path ~= "" then
		local err
		token, err = admin.read_token(path)
		if not token then
			closed_reason = "metrics closed: " .. err
		end
	else
		closed_reason = "metrics closed: set metrics_token to a token file (mode 0600)"
	end
	if closed_reason then
		skynet.error(closed_reason .. "; /alive and /ready stay open") -- once, for the operator
	end
	local listen_id, bound_ip, bound_port = socket.listen(ip, port)
	skynet.error(string.format("Start metrics at %s:%s", tostring(bound_ip or ip), tostring(bound_port or port)))
	skynet.register ".metrics"
	socket.start(listen_id, function(id, addr)
		skynet.fork(connection, id, addr)
	end)
	skynet.fork(poller)
end)
