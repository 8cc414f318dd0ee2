-- http.sockethelper — skynet sockets as the read/write functions the http.*
-- modules take.  A failed read or write raises sockethelper.socket_error, a
-- single error value: compare with `==` to tell a dropped connection from a
-- protocol error (tostring gives the detail of the latest one).
local socket = require "skynet.socket"
local skynet = require "skynet"
local internal = require "http.internal"

local sockethelper = {}

local socket_error = setmetatable({}, {
	__tostring = function(self)
		local info = self.info
		self.info = nil
		return info or "[Socket Error]"
	end,
	__call = function(self, info)
		self.info = "[Socket Error] : " .. tostring(info)
		return self
	end,
})
sockethelper.socket_error = socket_error

-- readfunc(fd [, pre]): read(n) gives exactly n bytes, read() what is
-- there (waiting for at least one byte).  `pre` is served first.  The
-- function can take bytes back (internal.unread) so a second request that
-- arrived with the first one is not lost on a kept-alive connection.
function sockethelper.readfunc(fd, pre)
	if pre == "" then
		pre = nil
	end
	local function read(sz)
		if pre then
			local p = pre
			if sz == nil or sz == #p then
				pre = nil
				return p
			elseif sz < #p then
				pre = p:sub(sz + 1)
				return p:sub(1, sz)
			end
			pre = nil
			local more = not socket.invalid(fd) and socket.read(fd, sz - #p)
			if not more then
				error(socket_error("read failed fd = " .. fd))
			end
			return p .. more
		end
		if socket.invalid(fd) then
			error(socket_error("read on a closed socket fd = " .. fd))
		end
		local ret = socket.read(fd, sz)
		if not ret then
			error(socket_error("read failed fd = " .. fd))
		end
		return ret
	end
	internal.register_unread(read, function(s)
		pre = pre and (s .. pre) or s
	end)
	return read
end

sockethelper.readall = socket.readall

function sockethelper.writefunc(fd)
	return function(content)
		if not socket.write(fd, content) then
			error(socket_error("write failed fd = " .. fd))
		end
	end
end

-- connect(host, port [, timeout]): a connected socket id, or raises
-- socket_error.  timeout (centiseconds) bounds the connect: a connection
-- that completes later is closed.
function sockethelper.connect(host, port, timeout)
	local fd, err
	if timeout then
		local co = coroutine.running()
		local state = "waiting"
		skynet.fork(function()
			fd, err = socket.open(host, port)
			if state == "timeout" then
				if fd then
					socket.close(fd)
				end
			else
				state = "done"
				skynet.wakeup(co)
			end
		end)
		skynet.sleep(timeout, co)
		if state ~= "done" then
			state = "timeout"
			fd = nil
			err = "timeout"
		end
	else
		fd, err = socket.open(host, port)
	end
	if fd then
		return fd
	end
	error(socket_error(string.format("connect failed host = %s port = %s timeout = %s err = %s",
		host, port, tostring(timeout), tostring(err))))
end

function sockethelper.close(fd)
	socket.close(fd)
end

function sockethelper.shutdown(fd)
	socket.shutdown(fd)
end

return sockethelper
