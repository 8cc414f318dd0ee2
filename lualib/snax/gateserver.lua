-- snax.gateserver: a TCP gate framework.
--
-- gateserver.start(handler) turns the calling service into a gate. The handler:
--   connect(fd, addr)       a client connected (not read from until openclient)
--   message(fd, msg, sz)    a whole packet (2-byte big-endian length framing);
--                           msg is a C buffer the handler must free or pass on
--   disconnect(fd), error(fd, msg), warning(fd, kib)       (optional)
--   open(source, conf)      after the listen socket is up; conf.address/port
--                           hold the bound address (optional)
--   command(cmd, source, ...) for "lua" commands other than open/close
-- Lua commands: open(conf{address, port, maxclient, nodelay, backlog,
-- send_limit}), close.
--
-- Back-pressure: agents write to clients straight through the socket layer,
-- so a client that never reads makes its queue grow.  The socket layer warns
-- the gate as a client's queue passes 1 MiB (and each doubling after):
-- the gate then stops reading that client (no new requests, no new answers
-- to queue) until the queue has drained, when it reads again; a queue that
-- still reaches send_limit bytes (conf, else config gate_send_limit, else
-- 16 MiB) closes the client at once, dropping what was queued.  Each step is
-- logged.
--
-- connection[fd]: true = open, false = the peer closed (we may still write),
-- nil = unknown or closed by us.
local skynet = require "skynet"
local netpack = require "skynet.netpack"
local socketdriver = require "skynet.socketdriver"

local gateserver = {}

local socket -- the listen socket
local queue -- netpack's queue of whole packets
local maxclient
local client_number = 0
local CMD = setmetatable({}, { __gc = function() netpack.clear(queue) end })
local nodelay = false
local connection = {}
local reading = {}  -- fd -> true once openclient started it
local paused = {}   -- fd -> true while its reads are held back for a full send queue
local send_limit

function gateserver.openclient(fd)
	if connection[fd] then
		reading[fd] = true
		if not paused[fd] then
			socketdriver.start(fd)
		end
	end
end

function gateserver.closeclient(fd)
	local c = connection[fd]
	if c ~= nil then
		connection[fd] = nil
		reading[fd] = nil
		paused[fd] = nil
		socketdriver.close(fd)
	end
end

function gateserver.start(handler)
	assert(handler.message)
	assert(handler.connect)

	local listen_context = {}

	function CMD.open(source, conf)
		assert(not socket, "gate already open")
		local address = conf.address or "0.0.0.0"
		local port = assert(conf.port)
		maxclient = conf.maxclient or 1024
		send_limit = tonumber(conf.send_limit) or tonumber(skynet.getenv "gate_send_limit") or 16 * 1024 * 1024
		nodelay = conf.nodelay
		socket = assert(socketdriver.listen(address, port, conf.backlog or 128))
		listen_context.co = coroutine.running()
		listen_context.fd = socket
		skynet.wait(listen_context.co)
		conf.address = listen_context.addr
		conf.port = listen_context.port
		listen_context = nil
		skynet.error(string.format("Listen on %s:%d", conf.address, conf.port))
		socketdriver.start(socket)
		-- a draining node closes its gates (services/shutdownd.lua)
		local drain = skynet.localname ".shutdown"
		if drain then skynet.send(drain, "lua", "gate") end
		if handler.open then
			return handler.open(source, conf)
		end
	end

	function CMD.close()
		if socket then
			socketdriver.close(socket)
			socket = nil
		end
	end

	local MSG = {}

	local function dispatch_msg(fd, msg, sz)
		if connection[fd] then
			handler.message(fd, msg, sz)
		else
			skynet.error(string.format("Drop message from fd (%d) : %s", fd,
				netpack.tostring(msg, sz)))
		end
	end

	MSG.data = dispatch_msg

	local function dispatch_queue()
		local fd, msg, sz = netpack.pop(queue)
		if fd then
			-- if handler.message blocks, a fresh coroutine carries on with the queue
			skynet.fork(dispatch_queue)
			dispatch_msg(fd, msg, sz)
			for qfd, qmsg, qsz in netpack.pop, queue do
				dispatch_msg(qfd, qmsg, qsz)
			end
		end
	end

	MSG.more = dispatch_queue

	function MSG.open(fd, addr)
		if client_number >= maxclient then
			socketdriver.shutdown(fd)
			return
		end
		client_number = client_number + 1
		if nodelay then
			socketdriver.nodelay(fd)
		end
		connection[fd] = true
		handler.connect(fd, addr)
	end

	local function closed(fd)
		reading[fd] = nil
		paused[fd] = nil
		if connection[fd] ~= nil then
			client_number = client_number - 1
			connection[fd] = false -- the read side is gone; closeclient releases it
			return true
		end
	end

	function MSG.close(fd)
		if fd == socket then
			socket = nil
			return
		end
		if closed(fd) and handler.disconnect then
			handler.disconnect(fd)
		end
	end

	function MSG.error(fd, msg)
		if fd == socket then
			skynet.error("gateserver accept error:", msg)
			return
		end
		socketdriver.shutdown(fd)
		if closed(fd) and handler.error then
			handler.error(fd, msg)
		end
	end

	-- size: KiB queued for the client, 0 once the queue drained
	function MSG.warning(fd, size)
		if connection[fd] then
			if size * 1024 >= send_limit then
				skynet.error(string.format("gate: fd %d closed: %d KiB queued for a client that does not read, over send_limit (%d bytes)",
					fd, size, send_limit))
				connection[fd] = false -- its close event reports the disconnect
				socketdriver.shutdown(fd)
			elseif size > 0 and not paused[fd] then
				paused[fd] = true
				socketdriver.pause(fd)
				skynet.error(string.format("gate: fd %d paused: %d KiB queued for a client that does not read", fd, size))
			elseif size == 0 and paused[fd] then
				paused[fd] = nil
				if reading[fd] then
					socketdriver.start(fd)
				end
				skynet.error(string.format("gate: fd %d resumed: its send queue drained", fd))
			end
		end
		if handler.warning then
			handler.warning(fd, size)
		end
	end

	function MSG.init(id, addr, port)
		local ctx = listen_context
		if ctx and ctx.co and id == ctx.fd then
			ctx.addr = addr
			ctx.port = port
			local co = ctx.co
			ctx.co = nil
			skynet.wakeup(co)
		end
	end

	skynet.register_protocol {
		name = "socket",
		id = skynet.PTYPE_SOCKET, -- 6
		unpack = function(msg, sz)
			return netpack.filter(queue, msg, sz)
		end,
		dispatch = function(_, _, q, type, ...)
			queue = q
			if type then
				MSG[type](...)
			end
		end,
	}

	local function init()
		skynet.dispatch("lua", function(_, address, cmd, ...)
			local f = CMD[cmd]
			if f then
				skynet.ret(skynet.pack(f(address, ...)))
			else
				skynet.ret(skynet.pack(handler.command(cmd, address, ...)))
			end
		end)
	end

	if handler.embed then
		init()
	else
		skynet.start(init)
	end
end

return gateserver
