-- snax.msgcore: the part of snax.msgserver that reads client packets, with
-- no sockets and no skynet API, so it runs (and is fuzzed) in a plain Lua
-- state.  snax.msgserver drives it; user code has no need of it.
--
--   local core = msgcore.new(crypt, expired_number)
--
-- crypt is skynet.crypt (base64decode, hmac_hash, hexencode are used).
--
-- Users (by username):
--   core.login(username, secret)   a user the login server let in (error if known)
--   core.logout(username) -> user | nil      forgets the user
--   core.user(username)   -> user | nil      user.fd, user.ip while connected
--
-- Connections (by fd):
--   core.handshake(fd, addr, text) -> code, err
--       code is nil when the fd is now the user's connection, else the reply
--       ("404 User Not Found", "403 Index Expired", "401 Unauthorized",
--       "400 Bad Request"; err says why for the last).  Never raises.
--   core.connection(fd) -> user | nil;  core.drop(fd) -> user | nil  (forget fd)
--
-- Requests (text = content .. session as a big-endian uint32):
--   core.request(fd, text) -> job | nil
--       raises on a packet without a session, an unknown fd, or a session
--       reused in the same connection while its response is pending.
--       job.new: call the handler with job.content, then core.finish(job, ok, result).
--       Not new: the response was cached (or is pending) from an earlier
--       connection; no handler call.  nil: pending, nothing to send now.
--   core.finish(job, ok, result)  records the response (result: a string, or nil)
--   core.deliver(job) -> fd | nil, packet
--       the fd the response goes to now (nil: that connection is gone; the
--       packet stays cached for a reconnect) and the packet ">s2" framed.
--
-- A response packet is content .. byte ok (1/0) .. dword session, framed by
-- a 2-byte big-endian size; a failed request sends no content.  Content that
-- does not fit a frame becomes a failure response.
--
-- The cache: user.response[session] = entry { fd, packet, version, index }.
--   fd       the connection waiting for it, nil once sent
--   packet   nil while the handler runs
--   version  the handshake index of the connection that last asked for it
--   index    user.index when it was last answered; user.index counts answers
-- When user.index reaches 2 * expired_number, answered entries older than
-- expired_number answers are dropped and the others renumbered, so a user
-- keeps at most about 2 * expired_number answered responses.
local msgcore = {}

local MAX_FRAME <const> = 0xffff

function msgcore.new(crypt, expired_number)
	expired_number = expired_number or 128
	assert(math.type(expired_number) == "integer" and expired_number > 0,
		"expired_number must be a positive integer")
	local b64decode = crypt.base64decode
	local hmac_hash = crypt.hmac_hash

	local users = {}       -- username -> user
	local connections = {} -- fd -> user
	local core = {}

	function core.login(username, secret)
		assert(type(username) == "string" and type(secret) == "string")
		assert(users[username] == nil, "user already logged in")
		users[username] = {
			username = username,
			secret = secret,
			version = 0, -- index of the last accepted handshake
			index = 0,
			response = {},
		}
	end

	function core.logout(username)
		local u = users[username]
		users[username] = nil
		if u and u.fd and connections[u.fd] == u then
			connections[u.fd] = nil
		end
		return u
	end

	function core.user(username)
		return users[username]
	end

	function core.connection(fd)
		return connections[fd]
	end

	function core.drop(fd)
		local u = connections[fd]
		connections[fd] = nil
		if u and u.fd == fd then
			u.fd = nil
			u.ip = nil
		end
		return u
	end

	-- "username:index:base64(hmac)"; hmac = hmac_hash(secret, "username:index")
	function core.handshake(fd, addr, text)
		local username, index, hmac = string.match(text, "^([^:]*):([^:]*):([^:]*)$")
		if not username then
			return "400 Bad Request", "handshake is not username:index:hmac"
		end
		local u = users[username]
		if u == nil then
			return "404 User Not Found"
		end
		local idx = math.tointeger(tonumber(index))
		if idx == nil then
			return "400 Bad Request", "handshake index is not an integer"
		end
		local ok, mac = pcall(b64decode, hmac)
		if not ok then
			return "400 Bad Request", "handshake hmac is not base64"
		end
		if idx <= u.version then
			return "403 Index Expired"
		end
		if hmac_hash(u.secret, username .. ":" .. index) ~= mac then
			return "401 Unauthorized"
		end
		u.version = idx
		u.fd = fd
		u.ip = addr
		connections[fd] = u
	end

	function core.request(fd, text)
		local u = connections[fd]
		if u == nil then
			error("request on a connection with no user")
		end
		if #text < 4 then
			error("request of " .. #text .. " bytes has no session")
		end
		local session = string.unpack(">I4", text, #text - 3)
		local e = u.response[session]
		if e and e.version == u.version then
			-- the same connection reuses a session: a new request, unless the
			-- last one with this session is still running
			if e.packet == nil then
				error(string.format("session %08x reused before its response", session))
			end
			e = nil
		end
		if e == nil then
			e = { fd = fd, version = u.version }
			u.response[session] = e
			return { new = true, user = u, entry = e, session = session,
				content = string.sub(text, 1, -5) }
		end
		-- asked again after a reconnect: answer from the cache
		e.fd = fd
		e.version = u.version
		e.index = u.index
		if e.packet == nil then
			return nil -- the first request's finish/deliver will answer on fd
		end
		return { new = false, user = u, entry = e, session = session }
	end

	function core.finish(job, ok, result)
		local session = job.session
		local body
		if ok and (result == nil or type(result) == "string") then
			result = result or ""
			if #result + 5 <= MAX_FRAME then
				body = result .. string.pack(">BI4", 1, session)
			end
		end
		body = body or string.pack(">BI4", 0, session)
		local e = job.entry
		e.packet = string.pack(">s2", body)
		e.version = job.user.version
		e.index = job.user.index
	end

	local function retire(u)
		if u.index < expired_number * 2 then
			return
		end
		local newest = 0
		for session, e in pairs(u.response) do
			if e.fd == nil and e.packet then
				if e.index < expired_number then
					u.response[session] = nil
				else
					e.index = e.index - expired_number
					if e.index > newest then
						newest = e.index
					end
				end
			end
		end
		u.index = newest + 1
	end

	function core.deliver(job)
		local u, e = job.user, job.entry
		u.index = u.index + 1
		local fd = e.fd
		e.fd = nil
		local packet = e.packet
		retire(u)
		if fd and connections[fd] == u then
			return fd, packet
		end
		return nil, packet
	end

	return core
end

return msgcore
