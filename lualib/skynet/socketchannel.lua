-- skynet.socketchannel: a request/response channel over one TCP connection,
-- the base of DB drivers and cluster senders.
--
-- Two modes:
--   order mode (desc.response == nil): responses come back in request order;
--     channel:request(req, response_fn [, padding]) queues response_fn, and one
--     dispatch coroutine calls each in turn with the socket.
--   session mode (desc.response given): desc.response(sock) reads one reply and
--     returns session, ok, data [, more]; channel:request(req, session [, padding])
--     waits for that session, whatever order replies come in.
-- A response function returning a true 3rd/4th "padding" value means "more parts
-- follow": the parts are collected into a table.
--
-- Connection: the first request connects (to host, then each backup in turn),
-- runs desc.auth(channel) if given, and starts the dispatch coroutine. A socket
-- error fails every waiting request with socketchannel.error and drops the
-- connection; the next request reconnects. channel:connect() retries with
-- back-off until it succeeds (unless `once`).
local skynet = require "skynet"
local socket = require "skynet.socket"
local socketdriver = require "skynet.socketdriver"

local table = table
local coroutine = coroutine
local assert = assert
local pcall = pcall

local socket_channel = {}
local channel = {}
local channel_meta = { __index = channel, __name = "socketchannel" }
local channel_socket = {}

local socket_error = setmetatable({}, { __tostring = function() return "[Error: socket]" end })
socket_channel.error = socket_error

local channel_socket_meta = {
	__index = channel_socket,
	__gc = function(cs)
		local fd = cs[1]
		cs[1] = false
		if fd then
			socket.shutdown(fd)
		end
	end,
}

function socket_channel.channel(desc)
	local c = {
		__host = assert(desc.host),
		__port = assert(desc.port),
		__backup = desc.backup,
		__auth = desc.auth,
		__response = desc.response, -- session mode when set
		__request = {}, -- order mode: response functions, in order
		__thread = {}, -- order mode: waiting coroutines in order; session mode: session -> co
		__result = {}, -- co -> true | false | socket_error
		__result_data = {}, -- co -> data, or table of parts
		__connecting = {},
		__sock = false,
		__closed = false,
		__authcoroutine = false,
		__nodelay = desc.nodelay,
		__overload_notify = desc.overload,
		__overload = false,
		__socket_meta = channel_socket_meta,
	}
	if desc.socket_read or desc.socket_readline then
		c.__socket_meta = {
			__index = {
				read = desc.socket_read or channel_socket.read,
				readline = desc.socket_readline or channel_socket.readline,
			},
			__gc = channel_socket_meta.__gc,
		}
	end
	return setmetatable(c, channel_meta)
end

local function wakeup_all(self, errmsg)
	if self.__response then
		for session, co in pairs(self.__thread) do
			self.__thread[session] = nil
			self.__result[co] = socket_error
			self.__result_data[co] = errmsg
			skynet.wakeup(co)
		end
	else
		for i = 1, #self.__request do
			self.__request[i] = nil
		end
		for i = 1, #self.__thread do
			local co = self.__thread[i]
			self.__thread[i] = nil
			if co then
				self.__result[co] = socket_error
				self.__result_data[co] = errmsg
				skynet.wakeup(co)
			end
		end
	end
end

local function exit_thread(self)
	local co = coroutine.running()
	if self.__dispatch_thread == co then
		self.__dispatch_thread = nil
		local connecting = self.__connecting_thread
		if connecting then
			skynet.wakeup(connecting)
		end
	end
end

local function close_channel_socket(self)
	if self.__sock then
		local so = self.__sock
		self.__sock = false
		local wait = self.__wait_response
		if wait then
			self.__wait_response = nil
			skynet.wakeup(wait)
		end
		-- never raise here: the socket may already be gone
		pcall(socket.close, so[1])
	end
end

-- Store one response for co; true when the request is complete.
local function store_result(self, co, ok, data, padding)
	local parts = self.__result_data[co]
	if padding and ok then
		if type(parts) ~= "table" then
			parts = {}
			self.__result_data[co] = parts
		end
		parts[#parts + 1] = data
		return false
	end
	if type(parts) == "table" and ok then
		parts[#parts + 1] = data
	else
		self.__result_data[co] = data
	end
	self.__result[co] = ok
	return true
end

local function dispatch_by_session(self)
	local response = self.__response
	-- the dispatch coroutine lives as long as this socket
	while self.__sock do
		local ok, session, result_ok, result_data, padding = pcall(response, self.__sock)
		if ok and session then
			local co = self.__thread[session]
			if co then
				if store_result(self, co, result_ok, result_data, padding) then
					self.__thread[session] = nil
					skynet.wakeup(co)
				end
			else
				self.__thread[session] = nil
				skynet.error("socket: unknown session :", session)
			end
		else
			close_channel_socket(self)
			local errormsg
			if session ~= socket_error then
				errormsg = session
			end
			wakeup_all(self, errormsg)
		end
	end
	exit_thread(self)
end

local function pop_response(self)
	while true do
		if #self.__request > 0 and #self.__thread > 0 then
			local func = table.remove(self.__request, 1)
			local co = table.remove(self.__thread, 1)
			return func, co
		end
		if not self.__sock then
			return
		end
		self.__wait_response = coroutine.running()
		skynet.wait(self.__wait_response)
	end
end

local function push_response(self, response, co)
	if self.__response then
		-- session mode: response is the session
		self.__thread[response] = co
	else
		table.insert(self.__request, response)
		table.insert(self.__thread, co)
		local wait = self.__wait_response
		if wait then
			self.__wait_response = nil
			skynet.wakeup(wait)
		end
	end
end

local function dispatch_by_order(self)
	while self.__sock do
		local func, co = pop_response(self)
		if func == nil then
			break
		end
		local ok, result_ok, result_data, padding = pcall(func, self.__sock)
		if ok then
			if store_result(self, co, result_ok, result_data, padding) then
				skynet.wakeup(co)
			else
				-- more parts follow for the same request: serve it again
				table.insert(self.__request, 1, func)
				table.insert(self.__thread, 1, co)
			end
		else
			close_channel_socket(self)
			local errmsg
			if result_ok ~= socket_error then
				errmsg = result_ok
			end
			self.__result[co] = socket_error
			self.__result_data[co] = errmsg
			skynet.wakeup(co)
			wakeup_all(self, errmsg)
		end
	end
	exit_thread(self)
end

local function dispatch_function(self)
	if self.__response then
		return dispatch_by_session
	end
	return dispatch_by_order
end

local function term_dispatch_thread(self)
	-- wait for the previous connection's dispatch coroutine to notice the close
	while self.__dispatch_thread do
		self.__connecting_thread = coroutine.running()
		skynet.wait(self.__connecting_thread)
		self.__connecting_thread = nil
	end
end

local function connect_once(self)
	if self.__closed then
		return false
	end
	local addr_list = {}
	local addr_set = {}
	local function add_backup()
		for _, addr in ipairs(self.__backup or {}) do
			local host, port
			if type(addr) == "table" then
				host, port = addr.host, addr.port or self.__port
			else
				host, port = addr, self.__port
			end
			local key = host .. ":" .. port
			if not addr_set[key] then
				addr_set[key] = true
				addr_list[#addr_list + 1] = { host = host, port = port }
			end
		end
	end
	local function next_addr()
		local addr = table.remove(addr_list, 1)
		if addr then
			skynet.error("socket: connect to backup host", addr.host, addr.port)
		end
		return addr
	end

	local function try_addr(addr)
		local fd, err = socket.open(addr.host, addr.port)
		if not fd then
			local nxt = next_addr()
			if nxt == nil then
				return false, err
			end
			return try_addr(nxt)
		end
		self.__host = addr.host
		self.__port = addr.port
		assert(not self.__sock and not self.__authcoroutine)
		if self.__nodelay then
			socketdriver.nodelay(fd)
		end
		if self.__overload_notify then
			local notify = self.__overload_notify
			socket.warning(fd, function(_, size)
				if size == 0 then
					if self.__overload then
						self.__overload = false
						notify(false)
					end
				elseif not self.__overload then
					self.__overload = true
					notify(true)
				end
			end)
		end
		term_dispatch_thread(self)
		self.__sock = setmetatable({ fd }, self.__socket_meta)
		self.__dispatch_thread = skynet.fork(function()
			if self.__sock then
				pcall(dispatch_function(self), self)
			end
			exit_thread(self)
		end)
		if self.__auth then
			self.__authcoroutine = coroutine.running()
			local ok, message = pcall(self.__auth, self)
			self.__authcoroutine = false
			if not ok then
				close_channel_socket(self)
				if message ~= socket_error then
					skynet.error("socket: auth failed", message)
				end
				local nxt = next_addr()
				if nxt == nil then
					return false, "auth failed: " .. tostring(message)
				end
				return try_addr(nxt)
			end
			if not self.__sock then
				return false, "disconnected during auth"
			end
		end
		return true
	end

	add_backup()
	return try_addr({ host = self.__host, port = self.__port })
end

local function try_connect(self, once)
	local t = 0
	while not self.__closed do
		local ok, err = connect_once(self)
		if ok then
			if not once then
				skynet.error("socket: connect to", self.__host, self.__port)
			end
			return
		elseif once then
			return err
		else
			skynet.error("socket: connect", err)
		end
		if t > 1000 then
			skynet.error("socket: try to reconnect", self.__host, self.__port)
		end
		skynet.sleep(t)
		t = t + 100
		if t > 1000 then
			t = 1000
		end
	end
end

-- true: usable; false: closed; nil: needs connecting
local function check_connection(self)
	if self.__sock then
		if socket.disconnected(self.__sock[1]) then
			skynet.error("socket: disconnect detected ", self.__host, self.__port)
			close_channel_socket(self)
			return
		end
		local authco = self.__authcoroutine
		if not authco or authco == coroutine.running() then
			return true
		end
	end
	if self.__closed then
		return false
	end
end

local function block_connect(self, once)
	local r = check_connection(self)
	if r ~= nil then
		return r
	end
	local err
	if #self.__connecting > 0 then
		-- another coroutine is connecting: wait for it
		local co = coroutine.running()
		table.insert(self.__connecting, co)
		skynet.wait(co)
	else
		self.__connecting[1] = true
		err = try_connect(self, once)
		for i = 2, #self.__connecting do
			local co = self.__connecting[i]
			self.__connecting[i] = nil
			skynet.wakeup(co)
		end
		self.__connecting[1] = nil
	end
	r = check_connection(self)
	if r == nil then
		skynet.error(string.format("Connect to %s:%d failed (%s)", self.__host, self.__port,
			tostring(err)))
		error(socket_error)
	end
	return r
end

function channel:connect(once)
	self.__closed = false
	return block_connect(self, once)
end

local function wait_for_response(self, response)
	local co = coroutine.running()
	push_response(self, response, co)
	skynet.wait(co)
	local result = self.__result[co]
	local result_data = self.__result_data[co]
	self.__result[co] = nil
	self.__result_data[co] = nil
	if result == socket_error then
		if result_data then
			error(result_data)
		end
		error(socket_error)
	end
	assert(result, result_data)
	return result_data
end

local function sock_write(self, request, padding)
	local fd = self.__sock[1]
	if padding then
		-- a request in several parts: low priority so no other packet cuts in
		socket.lwrite(fd, request)
		for _, part in ipairs(padding) do
			socket.lwrite(fd, part)
		end
		return true
	end
	return socket.write(fd, request)
end

function channel:request(request, response, padding)
	assert(block_connect(self, true)) -- connect once
	if not sock_write(self, request, padding) then
		close_channel_socket(self)
		wakeup_all(self)
		error(socket_error)
	end
	if response == nil then
		-- send only
		return
	end
	return wait_for_response(self, response)
end

-- Order mode: read one response that no request asked for.
function channel:response(response)
	assert(block_connect(self))
	return wait_for_response(self, response)
end

function channel:close()
	if not self.__closed then
		self.__closed = true
		close_channel_socket(self)
	end
end

function channel:changehost(host, port)
	self.__host = host
	if port then
		self.__port = port
	end
	if not self.__closed then
		close_channel_socket(self)
	end
end

function channel:changebackup(backup)
	self.__backup = backup
end

channel_meta.__gc = channel.close

local function wrapper_socket_function(f)
	return function(self, ...)
		local result = f(self[1], ...)
		if not result then
			error(socket_error)
		end
		return result
	end
end

channel_socket.read = wrapper_socket_function(socket.read)
channel_socket.readline = wrapper_socket_function(socket.readline)

return socket_channel
