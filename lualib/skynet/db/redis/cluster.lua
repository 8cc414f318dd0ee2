-- skynet.db.redis.cluster: a Redis Cluster client.
--
--   local rc = require "skynet.db.redis.cluster"
--   local db = rc.new({ {host = "127.0.0.1", port = 7000}, ... },
--                     { read_slave = false, auth = nil, db = 0 },
--                     function(message, channel, pattern) ... end)   -- for subscriptions
--   db:set("k", 1); db:get("k")          -- any command: routed to the key's slot
--   db:keyslot("{tag}k"); db:get_connection_by_slot(slot):pipeline { ... }
--   db:subscribe("news"); db:psubscribe("n*")   -- messages go to the callback
--
-- Routing: the slot table comes from CLUSTER SLOTS of the first start-up node
-- that answers.  A command goes to its key's master (or, with read_slave, to a
-- replica for read-only commands).  MOVED updates that slot and schedules a
-- full refresh; ASK sends ASKING and the command once to the named node, in
-- one write so that no other request of the same connection comes between
-- them; TRYAGAIN and CLUSTERDOWN are retried after a short pause; a node that
-- cannot be reached makes the client reload the table and try again.  After
-- MAX_REDIRECTIONS tries the last error is raised.
local skynet = require "skynet"
local redis = require "skynet.db.redis"
local socketchannel = require "skynet.socketchannel"

local MAX_REDIRECTIONS = 16
local SLOTS = 16384

local M = {}

---------------------------------------------------------------------------
-- Key slots: CRC16 (XMODEM: polynomial 0x1021, initial 0) of the key, or of
-- its hash tag (the text between the first '{' and the next '}', if not
-- empty), modulo 16384.

local crc_table = {}
for i = 0, 255 do
	local crc = i << 8
	for _ = 1, 8 do
		if crc & 0x8000 ~= 0 then
			crc = ((crc << 1) ~ 0x1021) & 0xffff
		else
			crc = (crc << 1) & 0xffff
		end
	end
	crc_table[i] = crc
end

local function crc16(s)
	local crc = 0
	for i = 1, #s do
		crc = ((crc << 8) & 0xffff) ~ crc_table[((crc >> 8) ~ s:byte(i)) & 0xff]
	end
	return crc
end

local function keyslot(key)
	key = tostring(key)
	local open = key:find("{", 1, true)
	if open then
		local close = key:find("}", open + 1, true)
		if close and close > open + 1 then
			key = key:sub(open + 1, close - 1)
		end
	end
	return crc16(key) % SLOTS
end
M.keyslot = keyslot

-- Commands that address no key: they go to any node.
local keyless = {}
for _, c in ipairs { "info", "multi", "exec", "slaveof", "config", "shutdown", "cluster", "dbsize",
	"ping", "flushall", "flushdb", "keys", "randomkey", "script", "time", "echo", "save",
	"bgsave", "lastsave", "client", "command", "memory", "role", "wait", "readonly", "readwrite" } do
	keyless[c] = true
end

-- Read-only commands a replica may answer when read_slave is set.
local readonly = {}
for _, c in ipairs { "get", "mget", "exists", "strlen", "getrange", "ttl", "pttl", "type",
	"hget", "hmget", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hstrlen", "lrange", "llen",
	"lindex", "smembers", "sismember", "scard", "srandmember", "sinter", "sunion", "sdiff",
	"zrange", "zrevrange", "zrangebyscore", "zrevrangebyscore", "zscore", "zcard", "zcount",
	"zrank", "zrevrank", "bitcount", "getbit" } do
	readonly[c] = true
end

-- The key of a command (nil: any node will do).
local function key_of(cmd, args)
	if keyless[cmd] then
		return nil
	end
	if cmd == "eval" or cmd == "evalsha" then
		-- eval script numkeys key... arg...
		if (tonumber(args[2]) or 0) > 0 then
			return args[3]
		end
		return nil
	end
	return args[1]
end

---------------------------------------------------------------------------

local cluster = {}
local cluster_meta = {}

local function node_name(host, port)
	return host .. ":" .. port
end

function M.new(startup_nodes, opt, onmessage)
	assert(type(startup_nodes) == "table" and #startup_nodes > 0,
		"redis cluster: give at least one start-up node { host = ..., port = ... }")
	-- Every field exists (false, not nil): a missing one would be taken for a
	-- command by __index.
	local self = setmetatable({
		startup_nodes = {},
		opt = opt or {},
		onmessage = onmessage or false,
		connections = {},        -- "host:port" -> redis connection
		slots = {},              -- slot -> { master node, replica nodes... }
		nodes = {},              -- "host:port" -> node
		refresh = true,          -- the slot table must be (re)loaded before use
		watch_conn = false,
		moved = 0,               -- redirections followed, for operators and tests
		asked = 0,
	}, cluster_meta)
	for _, n in ipairs(startup_nodes) do
		local node = { host = n.host, port = n.port or 6379 }
		node.name = node_name(node.host, node.port)
		self.startup_nodes[#self.startup_nodes + 1] = node
		self.nodes[node.name] = node
	end
	self:initialize_slots_cache()
	return self
end

function cluster:get_node(host, port)
	local name = node_name(host, port)
	local node = self.nodes[name]
	if node == nil then
		node = { host = host, port = port, name = name }
		self.nodes[name] = node
	end
	return node
end

-- A connection to `node` (made on first use).  Replicas get READONLY so that
-- they answer reads for their master's slots.
function cluster:get_connection(node, replica)
	local conn = self.connections[node.name]
	if conn == nil then
		local conf = {
			host = node.host,
			port = node.port,
			auth = self.opt.auth,
			username = self.opt.username,
			overload = self.opt.overload,
		}
		if self.opt.db and self.opt.db ~= 0 then
			conf.db = self.opt.db
		end
		conn = redis.connect(conf)
		self.connections[node.name] = conn
	end
	if replica and not node.readonly then
		conn:readonly()
		node.readonly = true
	end
	return conn
end

function cluster:initialize_slots_cache()
	local last_err
	for _, node in ipairs(self.startup_nodes) do
		local ok, ranges = pcall(function()
			return self:get_connection(node):cluster("slots")
		end)
		if ok and type(ranges) == "table" then
			local slots = {}
			for _, r in ipairs(ranges) do
				local owners = {}
				for i = 3, #r do
					local host, port = r[i][1], r[i][2]
					if host == "" then
						host = node.host -- a node that does not know its own address
					end
					owners[#owners + 1] = self:get_node(host, port)
				end
				for s = r[1], r[2] do
					slots[s] = owners
				end
			end
			self.slots = slots
			-- everything the table names becomes a start-up node for next time
			for _, owners in pairs(slots) do
				for _, n in ipairs(owners) do
					local known = false
					for _, s in ipairs(self.startup_nodes) do
						known = known or s.name == n.name
					end
					if not known then
						self.startup_nodes[#self.startup_nodes + 1] = n
					end
				end
			end
			self.refresh = false
			return
		end
		last_err = ranges
	end
	error("redis cluster: no start-up node answered CLUSTER SLOTS: " .. tostring(last_err))
end

-- The next command reloads the slot table.
function cluster:flush_slots_cache()
	self.refresh = true
end

function cluster:keyslot(key)
	return keyslot(key)
end

function cluster:close_all_connection()
	for name, conn in pairs(self.connections) do
		self.connections[name] = nil
		pcall(conn.disconnect, conn)
	end
	for _, node in pairs(self.nodes) do
		node.readonly = nil
	end
	self.refresh = true
end

function cluster:get_random_connection()
	local names = {}
	for name in pairs(self.nodes) do
		names[#names + 1] = name
	end
	local last_err
	for _ = 1, #names do
		local i = math.random(#names)
		local node = self.nodes[names[i]]
		local ok, conn = pcall(self.get_connection, self, node)
		if ok then
			local alive, err = pcall(conn.ping, conn)
			if alive then
				return conn
			end
			last_err = err
			self.connections[node.name] = nil
			pcall(conn.disconnect, conn)
		else
			last_err = conn
		end
		table.remove(names, i)
	end
	error("redis cluster: no node can be reached: " .. tostring(last_err))
end

function cluster:get_connection_by_slot(slot, for_read)
	if self.refresh then
		self:initialize_slots_cache()
	end
	local owners = self.slots[slot]
	if owners == nil then
		return self:get_random_connection()
	end
	if for_read and self.opt.read_slave and #owners > 1 then
		return self:get_connection(owners[math.random(2, #owners)], true)
	end
	return self:get_connection(owners[1])
end

-- Runs one command with the redirections of a cluster.
function cluster:call(cmd, ...)
	cmd = string.lower(cmd)
	local args = table.pack(...)
	if args.n == 1 and type(args[1]) == "table" then
		args = args[1]
		args.n = args.n or #args
	end
	local key = key_of(cmd, args)
	local ask_node
	local last_err
	for try = 1, MAX_REDIRECTIONS do
		local conn
		local ok, result
		if ask_node then
			local target = ask_node
			ask_node = nil
			ok, result = pcall(function()
				conn = self:get_connection(target)
				local op = { cmd, table.unpack(args, 1, args.n) }
				local replies = conn:pipeline({ { "asking" }, op }, {})
				if not replies[2].ok then
					error(replies[2].out, 0)
				end
				return replies[2].out
			end)
		else
			ok, result = pcall(function()
				if key == nil then
					conn = self:get_random_connection()
				else
					conn = self:get_connection_by_slot(keyslot(key), readonly[cmd])
				end
				return conn[cmd](conn, table.unpack(args, 1, args.n))
			end)
		end
		if ok then
			return result
		end
		last_err = result
		local msg = tostring(result)
		local slot, host, port = msg:match("MOVED (%d+) (%S*):(%d+)")
		if slot then
			if host == "" then
				host = "127.0.0.1"
			end
			local owners = self.slots[tonumber(slot)] or {}
			owners = { self:get_node(host, tonumber(port)), table.unpack(owners, 2) }
			self.slots[tonumber(slot)] = owners
			self.moved = self.moved + 1
			self.refresh = true -- many slots probably moved together
		else
			slot, host, port = msg:match("ASK (%d+) (%S*):(%d+)")
			if slot then
				if host == "" then
					host = "127.0.0.1"
				end
				ask_node = self:get_node(host, tonumber(port))
				self.asked = self.asked + 1
			elseif msg:find("TRYAGAIN", 1, true) or msg:find("CLUSTERDOWN", 1, true) then
				skynet.sleep(math.min(try, 10) * 5)
			elseif result == socketchannel.error then
				-- a node is gone or unreachable: forget its connection and reload
				self:close_all_connection()
				skynet.sleep(math.min(try, 10) * 5)
			else
				error(result, 0) -- an ordinary Redis error: the caller's
			end
		end
	end
	error(last_err, 0)
end

---------------------------------------------------------------------------
-- Subscriptions: one watch connection; messages go to `onmessage`.

local function watch_loop(self, w)
	while self.watch_conn == w do
		local ok, msg, channel, pattern = pcall(w.message, w)
		if not ok then
			if self.watch_conn ~= w then
				return
			end
			skynet.error("redis cluster: watch connection lost: " .. tostring(msg))
			skynet.sleep(10)
		elseif self.onmessage then
			self.onmessage(msg, channel, pattern)
		end
	end
end

function cluster:get_watch_connection()
	if not self.watch_conn then
		local names = {}
		for name in pairs(self.nodes) do
			names[#names + 1] = name
		end
		local node = self.nodes[names[math.random(#names)]]
		local w = redis.watch {
			host = node.host,
			port = node.port,
			auth = self.opt.auth,
			username = self.opt.username,
		}
		self.watch_conn = w
		skynet.fork(watch_loop, self, w)
	end
	return self.watch_conn
end

for _, name in ipairs { "subscribe", "psubscribe", "unsubscribe", "punsubscribe" } do
	cluster[name] = function(self, ...)
		local w = self:get_watch_connection()
		return w[name](w, ...)
	end
end

function cluster:close_watch()
	local w = self.watch_conn
	if w then
		self.watch_conn = false
		w:disconnect()
	end
end

cluster_meta.__index = function(t, name)
	local f = cluster[name]
	if f then
		return f
	end
	f = function(self, ...)
		return self:call(name, ...)
	end
	cluster[name] = f
	return f
end

return M
