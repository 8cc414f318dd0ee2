-- skynet.db.redis: a Redis client for services, on skynet.socketchannel.
--
--   local redis = require "skynet.db.redis"
--   local db = redis.connect { host = "127.0.0.1", port = 6379, db = 0, auth = "pw" [, username = "u"] }
--   db:set("k", "v"); db:get("k"); db:hmset("h", "a", 1, "b", 2) or db:hmset { "h", "a", 1 }
--   db:pipeline({ {"set", "a", 1}, {"get", "a"} } [, results])
--   db:disconnect()
--   local w = redis.watch(conf); w:subscribe "news"; local msg, channel = w:message()
--
-- Every Redis command is a method (its name in any case).  Arguments are
-- strings or numbers, or one table holding them all.  Replies (RESP2): a
-- status or bulk string is a string, an integer a number, a null nil, an
-- array a table; an error reply raises a Lua error with Redis's text, after
-- which the connection is still usable.  exists and sismember return booleans.
--
-- Connections are order-mode channels: Redis answers in request order, so
-- any number of coroutines may share one connection and each gets its own
-- reply.  A lost connection fails the requests waiting on it and is opened
-- again (auth and select included) by the next request.
local socketchannel = require "skynet.socketchannel"

local tostring = tostring
local tonumber = tonumber
local type = type
local select = select
local string = string
local table = table

local redis = {}

---------------------------------------------------------------------------
-- Replies.  read_reply(sock) -> ok, value.  `ok` is false for an error reply
-- (and for an array holding one); socketchannel raises it for the caller.

local read_reply

local function bad_reply(line)
	error("redis: malformed reply line " .. string.format("%q", line:sub(1, 64)))
end

local function length_of(line)
	local n = math.tointeger(tonumber(line:sub(2)))
	if n == nil then
		bad_reply(line)
	end
	return n
end

local readers = {
	[43] = function(_, line) -- '+' status
		return true, line:sub(2)
	end,
	[45] = function(_, line) -- '-' error
		return false, line:sub(2)
	end,
	[58] = function(_, line) -- ':' integer
		local v = math.tointeger(tonumber(line:sub(2)))
		if v == nil then
			bad_reply(line)
		end
		return true, v
	end,
	[36] = function(sock, line) -- '$' bulk string
		local n = length_of(line)
		if n < 0 then
			return true, nil
		end
		local data = sock:read(n + 2)
		return true, data:sub(1, n)
	end,
	[42] = function(sock, line) -- '*' array
		local n = length_of(line)
		if n < 0 then
			return true, nil
		end
		local items, all_ok = {}, true
		for i = 1, n do
			local ok, v = read_reply(sock)
			all_ok = all_ok and ok
			items[i] = v
		end
		return all_ok, items
	end,
}

read_reply = function(sock)
	local line = sock:readline "\r\n"
	local reader = readers[line:byte(1)]
	if reader == nil then
		bad_reply(line)
	end
	return reader(sock, line)
end

redis.read_reply = read_reply

---------------------------------------------------------------------------
-- Requests: RESP arrays of bulk strings, built as a table of pieces that the
-- socket layer writes in one block.

local function put_args(out, name, args, n)
	out[#out + 1] = "*" .. (n + 1) .. "\r\n$" .. #name .. "\r\n" .. name .. "\r\n"
	for i = 1, n do
		local v = args[i]
		if v == nil then
			error("redis: argument #" .. i .. " of " .. name .. " is nil", 3)
		end
		v = tostring(v)
		out[#out + 1] = "$" .. #v .. "\r\n"
		out[#out + 1] = v
		out[#out + 1] = "\r\n"
	end
	return out
end

-- (name, "a", "b") / (name, {"a", "b"}) / (name) -> the request pieces
local function compose(name, ...)
	local n = select("#", ...)
	local first = ...
	if n == 1 and type(first) == "table" then
		return put_args({}, name, first, first.n or #first)
	end
	return put_args({}, name, { ... }, n)
end
redis.compose = compose

---------------------------------------------------------------------------
-- Commands

local command = {}
local meta = { __index = command, __name = "redis" }

local function login(conf)
	local auth, db = conf.auth, conf.db
	if auth == nil and db == nil then
		return nil
	end
	return function(channel)
		if auth ~= nil then
			if conf.username ~= nil then
				channel:request(compose("AUTH", conf.username, auth), read_reply)
			else
				channel:request(compose("AUTH", auth), read_reply)
			end
		end
		if db ~= nil then
			channel:request(compose("SELECT", db), read_reply)
		end
	end
end
redis.login = login

function redis.connect(conf)
	local channel = socketchannel.channel {
		host = conf.host,
		port = conf.port or 6379,
		auth = login(conf),
		nodelay = true,
		overload = conf.overload,
	}
	channel:connect(true) -- one attempt: a bad address fails here, at once
	return setmetatable({ channel }, meta)
end

function command:disconnect()
	self[1]:close()
	setmetatable(self, nil)
end

-- Any other method name is a command: made once, then kept in `command`.
setmetatable(command, {
	__index = function(t, name)
		local NAME = string.upper(name)
		local f = function(self, ...)
			return self[1]:request(compose(NAME, ...), read_reply)
		end
		t[name] = f
		return f
	end,
})

local function read_boolean(sock)
	local ok, v = read_reply(sock)
	if ok then
		return true, v ~= 0
	end
	return ok, v
end

function command:exists(key)
	return self[1]:request(compose("EXISTS", key), read_boolean)
end

function command:sismember(key, member)
	return self[1]:request(compose("SISMEMBER", key, member), read_boolean)
end

-- ops: { {"cmd", args...}, ... } sent in one write.  With `results`, every
-- reply is appended to it as { ok = bool, out = value } and it is returned;
-- without, the last reply is returned (or raised, if it is an error).
function command:pipeline(ops, results)
	assert(type(ops) == "table" and #ops > 0, "redis pipeline needs at least one command")
	local out = {}
	for i, op in ipairs(ops) do
		assert(type(op) == "table" and type(op[1]) == "string",
			"redis pipeline: command #" .. i .. " must be { name, args... }")
		put_args(out, string.upper(op[1]), { table.unpack(op, 2) }, #op - 1)
	end
	local count = #ops
	if results then
		return self[1]:request(out, function(sock)
			for _ = 1, count do
				local ok, v = read_reply(sock)
				results[#results + 1] = { ok = ok, out = v }
			end
			return true, results
		end)
	end
	return self[1]:request(out, function(sock)
		local ok, v
		for _ = 1, count do
			ok, v = read_reply(sock)
		end
		return ok, v
	end)
end

---------------------------------------------------------------------------
-- Watch mode: a connection that only subscribes and reads published messages.
-- Subscriptions are remembered and made again after a reconnection.

local watch = {}
local watch_meta = {
	__index = watch,
	__name = "redis.watch",
	__gc = function(self)
		self.__channel:close()
	end,
}

function redis.watch(conf)
	local w = { __subscribe = {}, __psubscribe = {} }
	local auth = login(conf)
	w.__channel = socketchannel.channel {
		host = conf.host,
		port = conf.port or 6379,
		nodelay = true,
		auth = function(channel)
			if auth then
				auth(channel)
			end
			-- replies to these arrive as messages, read by watch:message()
			for pattern in pairs(w.__psubscribe) do
				channel:request(compose("PSUBSCRIBE", pattern))
			end
			for name in pairs(w.__subscribe) do
				channel:request(compose("SUBSCRIBE", name))
			end
		end,
	}
	w.__channel:connect(true)
	return setmetatable(w, watch_meta)
end

function watch:disconnect()
	self.__channel:close()
	setmetatable(self, nil)
end

for _, name in ipairs { "subscribe", "psubscribe", "unsubscribe", "punsubscribe" } do
	local NAME = string.upper(name)
	watch[name] = function(self, ...)
		for i = 1, select("#", ...) do
			self.__channel:request(compose(NAME, (select(i, ...))))
		end
	end
end

-- Waits for the next published message: returns message, channel for a
-- subscription, and message, channel, pattern for a pattern subscription.
-- Subscription confirmations are consumed here and keep the sets current.
function watch:message()
	while true do
		local r = self.__channel:response(read_reply)
		local kind = r[1]
		if kind == "message" then
			return r[3], r[2]
		elseif kind == "pmessage" then
			return r[4], r[3], r[2]
		elseif kind == "subscribe" then
			self.__subscribe[r[2]] = true
		elseif kind == "psubscribe" then
			self.__psubscribe[r[2]] = true
		elseif kind == "unsubscribe" then
			self.__subscribe[r[2]] = nil
		elseif kind == "punsubscribe" then
			self.__psubscribe[r[2]] = nil
		end
	end
end

return redis
