-- skynet.db.redis.cluster against three real Redis Cluster masters: routing by
-- slot, hash tags, MOVED after a stale table, pipelines on one slot, keyless
-- commands, eval, subscriptions, and slots resharded while calls keep flowing.
local skynet = require "skynet"
local rediscluster = require "skynet.db.redis.cluster"
local T = require "testlib"

local host = skynet.getenv "db_host"
local ports = {}
for p in string.gmatch(skynet.getenv "redis_cluster_ports", "%d+") do
	ports[#ports + 1] = tonumber(p)
end

local function signalled()
	local f = io.open(skynet.getenv "db_signal")
	if f then
		f:close()
		return true
	end
end

T.main("test_rediscluster", function()
	local messages = {}
	local db = rediscluster.new({ { host = host, port = ports[1] }, { host = host, port = ports[2] } },
		{ read_slave = true, auth = nil, db = 0 },
		function(data, channel, pattern) messages[#messages + 1] = { data, channel, pattern } end)

	-- slots: the published CRC16 check value, hash tags
	T.eq(rediscluster.keyslot("123456789"), 12739, "CRC16/XMODEM check value")
	T.eq(db:keyslot("{user1000}.following"), db:keyslot("{user1000}.followers"), "hash tag")
	T.eq(db:keyslot("foo{}{bar}"), rediscluster.keyslot("foo{}{bar}"), "module and method agree")
	T.eq(db:keyslot("{}x"), rediscluster.keyslot("{}x"))
	T.ok(db:keyslot("foo{}{bar}") ~= db:keyslot("bar"), "an empty tag is no tag")

	db:del("list")
	db:del("map")
	T.eq(db:rpush("list", 1, 2, 3), 3, "rpush")
	T.same(db:lrange("list", 0, -1), { "1", "2", "3" }, "lrange")
	db:hmset("map", "key1", 1, "key2", 2)
	T.same(db:hgetall("map"), { "key1", "1", "key2", "2" }, "hgetall")

	-- keys on every master
	local owners = {}
	for i = 1, 200 do
		local k = "key" .. i
		db:set(k, i)
		owners[db:keyslot(k) * 3 // 16384] = true
	end
	for i = 1, 200 do
		T.eq(db:get("key" .. i), tostring(i), "get key" .. i)
	end
	T.ok(owners[0] and owners[1] and owners[2], "keys landed on all three masters")

	-- a stale table: MOVED puts it right
	for s = 0, 16383 do
		db.slots[s] = db.slots[(s + 6000) % 16384]
	end
	T.eq(db:set("A", 1), "OK", "set through MOVED")
	T.eq(db:get("A"), "1", "get through MOVED")
	db:flush_slots_cache()
	T.eq(db:get("A"), "1", "after a reload")

	-- reconnection
	local cnt = 0
	for _ in pairs(db.connections) do cnt = cnt + 1 end
	T.ok(cnt >= 1, "connections are kept")
	db:close_all_connection()
	T.eq(db:set("A", 1), "OK", "set after closing every connection")
	T.eq(db:del("A"), 1, "del")

	-- a pipeline on one slot
	local conn = db:get_connection_by_slot(db:keyslot("{foo}"))
	local ret = conn:pipeline({
		{ "hincrby", "{foo}hello", 1, 1 },
		{ "del", "{foo}hello" },
		{ "hmset", "{foo}hello", 1, 1, 2, 2, 3, 3 },
		{ "hgetall", "{foo}hello" },
	}, {})
	T.eq(ret[1].out, 1) T.eq(ret[2].out, 1) T.eq(ret[3].out, "OK")
	T.same(ret[4].out, { "1", "1", "2", "2", "3", "3" }, "pipeline on one slot")

	-- keyless commands go to any node
	local any = db:get_random_connection()
	T.ok(any:dbsize() >= 0, "dbsize")
	T.ok(any:info():find("redis_version", 1, true), "info")
	T.ok(db:cluster("nodes"):find("master", 1, true), "cluster nodes")
	local slots = db:cluster("slots")
	T.eq(#slots, 3, "three slot ranges")

	-- eval routed by its first key
	db:set("A", 1)
	local script = [[if redis.call("get", KEYS[1]) == ARGV[1] then return "ok" else return "fail" end]]
	T.eq(db:eval(script, 1, "A", 1), "ok", "eval with a key")
	T.eq(db:eval("return 7", 0), 7, "eval without a key")
	db:del("A")

	-- ordinary errors are the caller's, not retried forever
	db:set("S", "x")
	T.raises("WRONGTYPE", db.lpush, db, "S", 1)

	-- subscriptions: messages reach the callback
	db:subscribe("world")
	db:psubscribe("*team")
	T.eventually(function()
		db:publish("world", "hello,world")
		db:publish("1team", "hello,1team")
		local w, p = false, false
		for _, m in ipairs(messages) do
			w = w or (m[1] == "hello,world" and m[2] == "world")
			p = p or (m[1] == "hello,1team" and m[2] == "1team" and m[3] == "*team")
		end
		return w and p
	end, "published messages reach onmessage")

	-- resharding while in use: 100 keys written and read back in a loop
	local errors, rounds = {}, 0
	local redirected = db.moved + db.asked
	skynet.error("DBTEST RESHARD 1000")
	local deadline = skynet.now() + 6000
	repeat
		rounds = rounds + 1
		for i = 1, 100 do
			local k = "rs" .. i
			local ok, err = pcall(function()
				db:set(k, rounds)
				local v = db:get(k)
				if v ~= tostring(rounds) then error("read " .. tostring(v) .. " for " .. rounds) end
			end)
			if not ok then errors[#errors + 1] = tostring(err) end
		end
	until signalled() or skynet.now() > deadline
	T.ok(signalled(), "the reshard finished")
	T.eq(#errors, 0, "no call failed during the reshard: " .. table.concat(errors, "; "))
	for i = 1, 100 do
		T.eq(db:get("rs" .. i), tostring(rounds), "rs" .. i .. " after the reshard")
	end
	T.ok(db.moved + db.asked > redirected, "the client followed MOVED/ASK for the moved slots")
	skynet.error(string.format("DBTEST rounds during reshard %d, MOVED %d, ASK %d", rounds, db.moved, db.asked))
	db:close_watch()
end)
