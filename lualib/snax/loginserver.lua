-- snax.loginserver: skynet's login server.  A service file calls
-- login(conf) once at its top level; the first instance becomes the master
-- (registered as "." .. (conf.name or "login")), listens, and starts
-- conf.instance (8) slaves running the same file, which do the handshakes.
--
-- Line protocol (each line ends with "\n"):
--   S->C base64(challenge)            8 random bytes
--   C->S base64(dhexchange(ckey))     the client's 8-byte DH public key
--   S->C base64(dhexchange(skey))
--        secret = dhsecret(peer public key, own key), on both sides
--   C->S base64(hmac64(challenge, secret))
--   C->S base64(desencode(secret, token))
--   S->C "200 " .. base64(subid), or
--        "401 Unauthorized"   bad key, hmac, token, or auth_handler failed
--        "403 Forbidden"      login_handler failed
--        "406 Not Acceptable" the user is logging in already (multilogin false)
--
-- conf:
--   host ("0.0.0.0"), port (required; 0 picks a free one), instance (8),
--   name ("login"), multilogin (false),
--   timeout (seconds a client may take for the whole handshake; 30; 0 = none)
--   auth_handler(token) -> server, uid      in a slave; an error refuses (401)
--   login_handler(server, uid, secret) -> subid   in the master (may yield)
--   command_handler(command, ...) -> ...    "lua" messages sent to the master
--
-- The master logs "login server listen at : <host> <port>" with the bound port.
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"

local LINE_LIMIT <const> = 8192 -- bytes a client may have unread; more closes it

-- raised when the client's socket closed; the master writes nothing then
local socket_closed = setmetatable({}, { __tostring = function() return "socket closed" end })

local function checked(v)
	if not v then
		error(socket_closed)
	end
	return v
end

local function send_line(fd, text)
	checked(socket.write(fd, text .. "\n"))
end

-- The slave side: the handshake on one connection.
local function handshake(auth_handler, fd)
	socket.limit(fd, LINE_LIMIT)
	local challenge = crypt.randomkey()
	send_line(fd, crypt.base64encode(challenge))

	local clientkey = crypt.base64decode(checked(socket.readline(fd)))
	if #clientkey ~= 8 then
		error("client key is not 8 bytes")
	end
	local serverkey = crypt.randomkey()
	send_line(fd, crypt.base64encode(crypt.dhexchange(serverkey)))
	local secret = crypt.dhsecret(clientkey, serverkey)

	local hmac = crypt.base64decode(checked(socket.readline(fd)))
	if hmac ~= crypt.hmac64(challenge, secret) then
		error("challenge hmac does not match")
	end

	local token = crypt.desdecode(secret, crypt.base64decode(checked(socket.readline(fd))))
	local server, uid = auth_handler(token)
	return server, uid, secret
end

local function run_slave(auth_handler, timeout)
	-- reply: (server, uid, secret) | (false, why) refused | (nil, why) socket closed
	local function serve(fd, addr)
		socket.start(fd)
		local done = false
		if timeout > 0 then
			skynet.timeout(timeout * 100, function()
				if not done then
					skynet.error(string.format("login from %s (fd = %d) timed out", addr, fd))
					socket.close(fd)
				end
			end)
		end
		local ok, server, uid, secret = pcall(handshake, auth_handler, fd)
		done = true
		socket.abandon(fd) -- the master writes the answer
		if ok then
			return server, uid, secret
		elseif server == socket_closed then
			return nil, "socket closed"
		end
		return false, tostring(server)
	end

	skynet.dispatch("lua", function(_, _, fd, addr)
		skynet.ret(skynet.pack(serve(fd, addr)))
	end)
end

local function run_master(conf)
	local host = conf.host or "0.0.0.0"
	local port = assert(tonumber(conf.port), "conf.port")
	local instance = conf.instance or 8
	assert(instance > 0, "conf.instance must be positive")
	local login_handler = conf.login_handler
	local command_handler = conf.command_handler
	local multilogin = conf.multilogin

	skynet.dispatch("lua", function(_, _, command, ...)
		skynet.ret(skynet.pack(command_handler(command, ...)))
	end)

	local slaves = {}
	for i = 1, instance do
		slaves[i] = skynet.newservice(SERVICE_NAME)
	end
	local next_slave = 1
	local logging_in = {} -- uid -> true while its login_handler runs

	local function answer(fd, addr, slave)
		local server, uid, secret = skynet.call(slave, "lua", fd, addr)
		if not server then
			if server == false then
				send_line(fd, "401 Unauthorized")
			end
			error(server == nil and socket_closed or uid, 0)
		end
		if not multilogin then
			if logging_in[uid] then
				send_line(fd, "406 Not Acceptable")
				error(string.format("user %s is logging in already", uid), 0)
			end
			logging_in[uid] = true
		end
		local ok, subid = pcall(login_handler, server, uid, secret)
		if not multilogin then
			logging_in[uid] = nil
		end
		if not ok then
			send_line(fd, "403 Forbidden")
			error(subid, 0)
		end
		send_line(fd, "200 " .. crypt.base64encode(subid ~= nil and tostring(subid) or ""))
	end

	local listen_fd, _, bound = socket.listen(host, port)
	skynet.error(string.format("login server listen at : %s %d", host, bound or port))
	socket.start(listen_fd, function(fd, addr)
		local slave = slaves[next_slave]
		next_slave = next_slave % #slaves + 1
		local ok, err = pcall(answer, fd, addr, slave)
		if ok then
			socket.close_fd(fd)
		elseif err ~= socket_closed then
			skynet.error(string.format("login refused for %s (fd = %d): %s", addr, fd, tostring(err)))
			socket.close_fd(fd)
		end
		-- on socket_closed the socket is gone already (its id may be reused)
	end)
end

return function(conf)
	local name = "." .. (conf.name or "login")
	skynet.start(function()
		if skynet.localname(name) then
			run_slave(assert(conf.auth_handler, "conf.auth_handler"), conf.timeout or 30)
		else
			assert(conf.login_handler, "conf.login_handler")
			assert(conf.command_handler, "conf.command_handler")
			skynet.register(name)
			run_master(conf)
		end
	end)
end
