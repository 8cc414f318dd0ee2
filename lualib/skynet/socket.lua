-- skynet.socket: blocking-style sockets for Lua services.
--
-- Each socket this service manages has an entry in `pool`:
--   { id, buffer, connected, connecting, read_required, co, callback, pause,
--     closing, listen, protocol, on_warning, buffer_limit }
-- At most one coroutine reads a socket at a time (`co`). `read_required` says
-- what wakes it: a byte count, a separator string, or true (wait for close).
-- When more than BUFFER_LIMIT bytes sit unread, reading is paused in the socket
-- thread, and resumed by the next read that has to wait.
local driver = require "skynet.socketdriver"
local skynet = require "skynet"

local assert = assert
local type = type
local string = string

local BUFFER_LIMIT = 128 * 1024

local socket = {}
local pool = setmetatable({}, {
	__gc = function(p)
		for id in pairs(p) do
			driver.close(id)
			p[id] = nil
		end
	end,
})
local onclose_cb = {}
local handler = {}

local function wakeup(s)
	local co = s.co
	if co then
		s.co = nil
		skynet.wakeup(co)
	end
end

local function pause_socket(s, size)
	if s.pause ~= nil then
		return -- already paused (true), or closing (false)
	end
	if size then
		skynet.error(string.format("Pause socket (%d) size : %d", s.id, size))
	else
		skynet.error(string.format("Pause socket (%d)", s.id))
	end
	driver.pause(s.id)
	s.pause = true
end

local function suspend(s)
	assert(not s.co)
	s.co = coroutine.running()
	if s.pause then
		skynet.error(string.format("Resume socket (%d)", s.id))
		driver.start(s.id)
		skynet.wait(s.co)
		s.pause = nil
	else
		skynet.wait(s.co)
	end
	-- socket.close waits for the last reader before the buffer goes away
	if s.closing then
		skynet.wakeup(s.closing)
	end
end

-- Data for a socket nobody reads (closed, or not started): logged and freed.
local function orphan(what, id, size, data)
	skynet.error("socket: drop " .. what .. " from " .. id)
	driver.drop(data, size)
end

-- The waiting reader's request is met (sz bytes buffered): wake it, and stop
-- reading from the socket while the buffer is over BUFFER_LIMIT.
local function satisfied(s, sz)
	s.read_required = nil
	if sz > BUFFER_LIMIT then
		pause_socket(s, sz)
	end
	wakeup(s)
end

-- SKYNET_SOCKET_TYPE_DATA
handler[1] = function(id, size, data)
	local s = pool[id]
	if s == nil or s.buffer == nil then
		return orphan("package", id, size, data)
	end
	if s.overflow then
		driver.drop(data, size) -- closing after an overflow: data still in flight
		return
	end
	local sz = driver.push(s.buffer, data, size)
	local rr = s.read_required
	local rrt = type(rr)
	if rrt == "number" then
		if sz >= rr then
			satisfied(s, sz)
		end
	else
		if s.buffer_limit and sz > s.buffer_limit then
			skynet.error(string.format("socket buffer overflow: fd=%d size=%d", id, sz))
			s.overflow = true
			driver.clear(s.buffer)
			driver.close(id)
			return
		end
		if rrt == "string" then
			if driver.readline(s.buffer, rr, true) then
				satisfied(s, sz)
			end
		elseif rr ~= true and sz > BUFFER_LIMIT then
			-- nobody waits for this much: stop the sender until someone reads
			pause_socket(s, sz)
		end
	end
end

-- SKYNET_SOCKET_TYPE_CONNECT
handler[2] = function(id, ud, addr)
	local s = pool[id]
	if s == nil then
		return
	end
	if not s.connected then
		if s.listen then
			s.addr = addr
			s.port = ud
		end
		s.connected = true
		s.connecting = nil
		wakeup(s)
	end
end

-- The socket is gone (closed or failed): wake its reader, run its onclose once.
local function disconnected(id, s)
	s.connected = false
	s.connecting = nil
	wakeup(s)
	local cb = onclose_cb[id]
	if cb then
		onclose_cb[id] = nil
		cb(id)
	end
end

-- SKYNET_SOCKET_TYPE_CLOSE
handler[3] = function(id)
	local s = pool[id]
	if s == nil then
		return
	end
	disconnected(id, s)
end

-- SKYNET_SOCKET_TYPE_ACCEPT
handler[4] = function(id, newid, addr)
	local s = pool[id]
	if s == nil or s.callback == nil then
		driver.close(newid)
		return
	end
	s.callback(newid, addr)
end

-- SKYNET_SOCKET_TYPE_ERROR
handler[5] = function(id, _, err)
	local s = pool[id]
	if s == nil then
		skynet.error("socket: error on unknown", id, err)
		return
	end
	if s.listen and s.connected then
		skynet.error("socket: accept error on", id, err)
		return
	end
	if s.connecting then
		s.error = err
	elseif s.connected then
		skynet.error("socket: error on", id, err)
	end
	disconnected(id, s)
end

-- SKYNET_SOCKET_TYPE_UDP
handler[6] = function(id, size, data, address)
	local s = pool[id]
	if s == nil or s.callback == nil then
		return orphan("udp package", id, size, data)
	end
	local str = skynet.tostring(data, size)
	driver.drop(data, size)
	s.callback(str, address)
end

local function default_warning(id, size)
	skynet.error(string.format("WARNING: %d K bytes need to send out (fd = %d)", size, id))
end

-- SKYNET_SOCKET_TYPE_WARNING
handler[7] = function(id, size)
	local s = pool[id]
	if s then
		local warn = s.on_warning or default_warning
		warn(id, size)
	end
end

skynet.register_protocol {
	name = "socket",
	id = skynet.PTYPE_SOCKET, -- 6
	unpack = driver.unpack,
	dispatch = function(_, _, t, ...)
		local f = handler[t]
		if f then
			f(...)
		end
	end,
}

-- Wait for a socket just created (connect, start, bind) to be usable.
local function connect(id, func)
	local buffer
	if func == nil then
		buffer = driver.buffer()
	end
	local old = pool[id]
	if old and not old.listen then
		error("socket is not closed")
	end
	local s = {
		id = id,
		buffer = buffer,
		connected = false,
		connecting = true,
		callback = func,
		protocol = "TCP",
		listen = old and old.listen or (func ~= nil),
	}
	assert(not onclose_cb[id], "socket has onclose callback")
	pool[id] = s
	suspend(s)
	if s.connected then
		return id
	end
	pool[id] = nil
	return nil, s.error or "connect failed"
end

-- "host:port" / "[v6]:port" split
local function split_address(addr)
	local host, port = string.match(addr, "^%[(.-)%]:(%d+)$")
	if host == nil then
		host, port = string.match(addr, "^([^:]+):(%d+)$")
	end
	return host, tonumber(port)
end

function socket.open(addr, port)
	if port == nil then
		addr, port = split_address(addr)
		if addr == nil then
			return nil, "invalid address"
		end
	end
	local id = driver.connect(addr, port)
	if id < 0 then
		return nil, "reach socket number limit"
	end
	return connect(id)
end

function socket.bind(os_fd)
	local id = driver.bind(os_fd)
	return connect(id)
end

function socket.stdin()
	return socket.bind(0)
end

function socket.start(id, func)
	driver.start(id)
	return connect(id, func)
end

-- socket.listen_unix(path [, backlog]): a listen socket on a Unix-domain path,
-- created mode 0600 (a stale socket file there is replaced, any other file is
-- not); accepted connections are reported with the address "unix uid=U pid=P".
-- waits until the listen socket `id` (or err) is open; it stays in the pool so
-- that socket.close works before socket.start
local function await_listen(id, err)
	if id == nil then
		error(err)
	end
	local s = { id = id, connected = false, connecting = true, listen = true }
	pool[id] = s
	suspend(s)
	if not s.connected then
		pool[id] = nil
		error(s.error or "listen failed")
	end
	return s
end

function socket.listen_unix(path, backlog)
	local s = await_listen(driver.listen_unix(path, backlog))
	return s.id
end

function socket.listen(host, port, backlog)
	if port == nil then
		host, port = split_address(host)
		if host == nil then
			error("invalid listen address")
		end
	end
	local s = await_listen(driver.listen(host, port, backlog))
	return s.id, s.addr, s.port
end

-- take(s.buffer, want) (driver.pop with a size, driver.readline with a
-- separator) at once, or after one wait for the socket thread to have `want`
-- (read_required); on a socket that is closed or closing: false and what is
-- left in the buffer.
local function take_or_wait(s, take, want)
	local ret = take(s.buffer, want)
	if ret then
		return ret
	end
	if s.closing or not s.connected then
		return false, driver.readall(s.buffer)
	end
	assert(not s.read_required)
	s.read_required = want
	suspend(s)
	ret = take(s.buffer, want)
	if ret then
		return ret
	end
	return false, driver.readall(s.buffer)
end

function socket.read(id, sz)
	local s = pool[id]
	assert(s, "socket.read: unknown socket")
	if sz == nil then
		-- whatever is there, or wait for something
		local ret = driver.readall(s.buffer)
		if ret ~= "" then
			return ret
		end
		if not s.connected then
			return false, ret
		end
		assert(not s.read_required)
		s.read_required = 0
		suspend(s)
		ret = driver.readall(s.buffer)
		if ret ~= "" then
			return ret
		end
		return false, ret
	end
	return take_or_wait(s, driver.pop, sz)
end

function socket.readall(id)
	local s = pool[id]
	assert(s, "socket.readall: unknown socket")
	if not s.connected then
		return driver.readall(s.buffer)
	end
	assert(not s.read_required)
	s.read_required = true
	suspend(s)
	assert(not s.connected)
	return driver.readall(s.buffer)
end

function socket.readline(id, sep)
	sep = sep or "\n"
	local s = pool[id]
	assert(s, "socket.readline: unknown socket")
	return take_or_wait(s, driver.readline, sep)
end

function socket.block(id)
	local s = pool[id]
	if not s or not s.connected then
		return false
	end
	assert(not s.read_required)
	s.read_required = 0
	suspend(s)
	return s.connected
end

-- Writing works on any socket id, also ones another service manages (a gate's).
socket.write = assert(driver.send)
socket.lwrite = assert(driver.lsend)
socket.header = assert(driver.header)

function socket.invalid(id)
	return pool[id] == nil
end

function socket.disconnected(id)
	local s = pool[id]
	if s then
		return not (s.connected or s.connecting)
	end
end

function socket.close(id)
	local s = pool[id]
	if s == nil then
		return
	end
	driver.close(id)
	if s.connected then
		s.pause = false -- never resume a socket being closed
		if s.co then
			-- another coroutine reads it: let that one see the close first
			assert(not s.closing)
			s.closing = coroutine.running()
			skynet.wait(s.closing)
		else
			suspend(s)
		end
		s.connected = false
	end
	if s.buffer then
		driver.clear(s.buffer)
	end
	pool[id] = nil
	onclose_cb[id] = nil
end

-- Close a socket this service does not manage (pool has no entry for it).
function socket.close_fd(id)
	assert(pool[id] == nil, "Use socket.close instead")
	driver.close(id)
end

function socket.shutdown(id)
	local s = pool[id]
	if s and s.buffer then
		driver.clear(s.buffer)
	end
	driver.shutdown(id)
end

function socket.pause(id)
	local s = pool[id]
	if s == nil or s.pause then
		return
	end
	pause_socket(s)
end

-- Forget a socket here so another service can start it.
function socket.abandon(id)
	local s = pool[id]
	if s then
		s.connected = false
		wakeup(s)
		onclose_cb[id] = nil
		pool[id] = nil
	end
end

function socket.limit(id, limit)
	local s = assert(pool[id])
	s.buffer_limit = limit
end

function socket.warning(id, callback)
	local s = pool[id]
	local old
	if s then
		old = s.on_warning
		s.on_warning = callback
	end
	return old
end

function socket.onclose(id, callback)
	onclose_cb[id] = callback
end

---------------- UDP

-- Puts UDP socket id in the pool, with cb for its datagrams; returns id.
local function create_udp_object(id, cb)
	assert(not pool[id], "socket is not closed")
	pool[id] = { id = id, connected = true, protocol = "UDP", callback = cb }
	return id
end

function socket.udp(callback, host, port)
	return create_udp_object(driver.udp(host, port), callback)
end

function socket.udp_connect(id, addr, port, callback)
	local s = pool[id]
	if s then
		assert(s.protocol == "UDP")
		if callback then
			s.callback = callback
		end
	else
		create_udp_object(id, callback)
	end
	driver.udp_connect(id, addr, port)
end

function socket.udp_listen(addr, port, callback)
	return create_udp_object(driver.udp_listen(addr, port), callback)
end

function socket.udp_dial(addr, port, callback)
	return create_udp_object(driver.udp_dial(addr, port), callback)
end

socket.sendto = assert(driver.udp_send)
socket.udp_address = assert(driver.udp_address)

function socket.netstat()
	local list = driver.info()
	for _, v in ipairs(list) do
		v.address = skynet.address(v.address)
	end
	return list
end

socket.resolve = assert(driver.resolve)

return socket
