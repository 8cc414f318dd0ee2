-- gate: a TCP gate on snax.gateserver. Packets are
-- 2-byte big-endian length framed. The watchdog hears
--   "socket", "open"|"close"|"error"|"warning"|"data", fd, ...
-- and forwards connections to agents, which then get each packet as
-- PTYPE_CLIENT (session = fd, source = the client address given to forward).
local skynet = require "skynet"
local gateserver = require "snax.gateserver"

local watchdog
local connection = {} -- fd -> { fd, client, agent, ip }
local forwarding = {} -- agent -> connection

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
}

local handler = {}

function handler.open(source, conf)
	watchdog = conf.watchdog or source
	return conf.address, conf.port
end

function handler.message(fd, msg, sz)
	local c = connection[fd]
	local agent = c.agent
	if agent then
		-- the agent now owns msg
		skynet.redirect(agent, c.client, "client", fd, msg, sz)
	else
		skynet.send(watchdog, "lua", "socket", "data", fd, skynet.tostring(msg, sz))
		skynet.trash(msg, sz)
	end
end

function handler.connect(fd, addr)
	connection[fd] = { fd = fd, ip = addr }
	skynet.send(watchdog, "lua", "socket", "open", fd, addr)
end

local function unforward(c)
	if c.agent then
		forwarding[c.agent] = nil
		c.agent = nil
		c.client = nil
	end
end

local function close_fd(fd)
	local c = connection[fd]
	if c then
		unforward(c)
		connection[fd] = nil
	end
end

function handler.disconnect(fd)
	close_fd(fd)
	skynet.send(watchdog, "lua", "socket", "close", fd)
end

function handler.error(fd, msg)
	close_fd(fd)
	skynet.send(watchdog, "lua", "socket", "error", fd, msg)
end

function handler.warning(fd, size)
	skynet.send(watchdog, "lua", "socket", "warning", fd, size)
end

local CMD = {}

function CMD.forward(source, fd, client, address)
	local c = assert(connection[fd])
	unforward(c)
	c.client = client or 0
	c.agent = address or source
	forwarding[c.agent] = c
	gateserver.openclient(fd)
end

function CMD.accept(source, fd)
	local c = assert(connection[fd])
	unforward(c)
	gateserver.openclient(fd)
end

function CMD.kick(source, fd)
	gateserver.closeclient(fd)
end

function handler.command(cmd, source, ...)
	local f = assert(CMD[cmd], cmd)
	return f(source, ...)
end

gateserver.start(handler)
