-- snax.msgserver: the game-server side of skynet's login flow, on
-- snax.gateserver.  A user the login server admitted (server.login) connects,
-- proves it knows the DH secret, then sends requests; a user that reconnects
-- gets the responses it missed from a cache.
--
-- Wire (after gateserver's 2-byte big-endian size framing):
--   handshake  base64(uid)@base64(server)#base64(subid):index:base64(hmac)
--              hmac = crypt.hmac_hash(secret, "<username>:<index>"); index
--              must grow with every connection of the user
--   reply      "200 OK", or "404 User Not Found" / "403 Index Expired" /
--              "401 Unauthorized" / "400 Bad Request" and the server closes
--   request    content .. dword session (big-endian)
--   response   content .. byte ok (1, or 0 and no content) .. dword session
-- A request whose session was answered to an earlier connection of the user
-- is answered again from the cache without calling the handler.
--
-- API:
--   server.userid(username) -> uid, subid, servername
--   server.username(uid, subid, servername) -> username
--   server.login(username, secret), server.logout(username), server.ip(username)
--   server.start(conf)   makes the service a gate; conf:
--     login_handler(uid, secret) -> subid    "login" command (from the login server)
--     logout_handler(uid, subid)             "logout" command (from the agent)
--     kick_handler(uid, subid)               "kick" command (from the login server)
--     request_handler(username, msg) -> response string (may yield; an error
--                                       sends a failure response)
--     register_handler(servername)           when the gate opens (conf.servername
--                                            of the "open" command)
--     disconnect_handler(username)           optional, when a user's connection drops
--     expired_number                         cached responses kept per user (128)
--
-- The packet logic itself is snax.msgcore.
local skynet = require "skynet"
local gateserver = require "snax.gateserver"
local netpack = require "skynet.netpack"
local socketdriver = require "skynet.socketdriver"
local crypt = require "skynet.crypt"
local msgcore = require "snax.msgcore"

local b64encode = crypt.base64encode
local b64decode = crypt.base64decode

local server = {}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
}

local core -- made by server.start; login/logout before it use a default one
local function get_core()
	if core == nil then
		core = msgcore.new(crypt)
	end
	return core
end

function server.userid(username)
	local uid, servername, subid = string.match(username, "^([^@]*)@([^#]*)#(.*)$")
	if not uid then
		error("malformed username " .. tostring(username))
	end
	return b64decode(uid), b64decode(subid), b64decode(servername)
end

function server.username(uid, subid, servername)
	return string.format("%s@%s#%s", b64encode(uid), b64encode(servername), b64encode(tostring(subid)))
end

function server.login(username, secret)
	get_core().login(username, secret)
end

function server.logout(username)
	local u = get_core().logout(username)
	if u and u.fd then
		gateserver.closeclient(u.fd)
	end
end

function server.ip(username)
	local u = get_core().user(username)
	if u and u.fd then
		return u.ip
	end
end

function server.start(conf)
	if core == nil then
		core = msgcore.new(crypt, conf.expired_number)
	end
	local request_handler = assert(conf.request_handler, "conf.request_handler")
	local commands = {
		login = assert(conf.login_handler, "conf.login_handler"),
		logout = assert(conf.logout_handler, "conf.logout_handler"),
		kick = assert(conf.kick_handler, "conf.kick_handler"),
	}
	local pending_handshake = {} -- fd -> addr, until its first packet

	local handler = {}

	function handler.command(cmd, _, ...)
		local f = commands[cmd]
		if f == nil then
			error("msgserver has no command " .. tostring(cmd))
		end
		return f(...)
	end

	function handler.open(_, gateconf)
		return conf.register_handler(assert(gateconf.servername, "open needs conf.servername"))
	end

	function handler.connect(fd, addr)
		pending_handshake[fd] = addr
		gateserver.openclient(fd)
	end

	function handler.disconnect(fd)
		pending_handshake[fd] = nil
		local u = core.connection(fd)
		if u then
			if conf.disconnect_handler then
				conf.disconnect_handler(u.username)
			end
		end
		core.drop(fd)
		gateserver.closeclient(fd)
	end
	handler.error = handler.disconnect

	local function handshake(fd, addr, text)
		local code, why = core.handshake(fd, addr, text)
		if why then
			skynet.error(string.format("msgserver handshake from %s (fd = %d): %s", addr, fd, why))
		end
		socketdriver.send(fd, netpack.pack(code or "200 OK"))
		if code then
			gateserver.closeclient(fd)
		end
	end

	local function send(job)
		local fd, packet = core.deliver(job)
		if fd then
			socketdriver.send(fd, packet)
		end
	end

	local function request(fd, text)
		local ok, job = pcall(core.request, fd, text)
		if not ok then
			skynet.error(string.format("msgserver invalid request (fd = %d): %s", fd, job))
			core.drop(fd)
			gateserver.closeclient(fd)
			return
		end
		if job == nil then
			return
		end
		if job.new then
			-- may yield: the connection can close or the user log out meanwhile
			local hok, result = pcall(request_handler, job.user.username, job.content)
			if not hok then
				skynet.error(string.format("msgserver request of %s: %s", job.user.username, result))
				core.finish(job, false)
			elseif result ~= nil and type(result) ~= "string" then
				skynet.error("msgserver request_handler returned a " .. type(result))
				core.finish(job, false)
			else
				core.finish(job, true, result)
			end
		end
		send(job)
	end

	function handler.message(fd, msg, sz)
		local text = netpack.tostring(msg, sz)
		local addr = pending_handshake[fd]
		if addr then
			pending_handshake[fd] = nil
			handshake(fd, addr, text)
		else
			request(fd, text)
		end
	end

	return gateserver.start(handler)
end

return server
