-- skynet.db.redis against a real redis-server: what skynet's redis test
-- script does (set/get, hashes, sets, multi/exec, exists, sismember, publish
-- to a watcher), plus auth, select, every reply type, errors, pipelines,
-- concurrent callers on one connection, and large values.
local skynet = require "skynet"
local redis = require "skynet.db.redis"
local T = require "testlib"

local host = skynet.getenv "db_host"
local port = tonumber(skynet.getenv "redis_port")

T.main("test_redis", function()
	local conf = { host = host, port = port, db = 0 }

	-- a watcher, subscribed before anything is published
	local got = {}
	local w = redis.watch(conf)
	w:subscribe "foo"
	w:psubscribe "hello.*"
	skynet.fork(function()
		while true do
			local msg, channel, pattern = w:message()
			got[#got + 1] = { msg, channel, pattern }
		end
	end)

	local db = redis.connect(conf)
	db:del "C"
	T.eq(db:set("A", "hello"), "OK", "set is a status")
	db:set("B", "world")
	T.eq(db:sadd("C", "one"), 1, "sadd is an integer")
	T.eq(db:get "A", "hello", "get A")
	T.eq(db:get "B", "world", "get B")
	T.eq(db:get "no-such-key", nil, "a missing key is nil")

	db:del "D"
	for i = 1, 10 do
		db:hset("D", i, i)
	end
	local vals = db:hvals "D"
	T.eq(#vals, 10, "hvals is an array")
	local seen = {}
	for _, v in ipairs(vals) do seen[tonumber(v)] = true end
	for i = 1, 10 do T.ok(seen[i], "hvals has " .. i) end

	T.eq(db:multi(), "OK", "multi")
	T.eq(db:get "A", "QUEUED", "queued in a transaction")
	db:get "B"
	T.same(db:exec(), { "hello", "world" }, "exec returns every reply")

	T.eq(db:exists "A", true, "exists is a boolean")
	T.eq(db:exists "nope", false, "exists false")
	T.eq(db:set("A", "hello world"), "OK", "set again")
	T.eq(db:get "A", "hello world", "get after set")
	T.eq(db:sismember("C", "one"), true, "sismember true")
	T.eq(db:sismember("C", "two"), false, "sismember false")

	-- arguments as one table; nil inside is an error, not a silent cut
	db:del "H"
	T.eq(db:hmset { "H", "a", 1, "b", 2 }, "OK", "hmset with a table")
	T.same(db:hgetall "H", { "a", "1", "b", "2" }, "hgetall")
	T.raises("is nil", db.hmset, db, { "H", "a", nil, "c", 3, n = 5 })

	-- an error reply raises with Redis's text and leaves the connection usable
	T.raises("WRONGTYPE", db.lpush, db, "A", "x")
	T.raises("unknown command", db.nosuchcommand, db)
	T.eq(db:get "A", "hello world", "connection still usable after errors")

	-- integers, negative and big; binary-safe values; a 1 MiB value
	T.eq(db:incrby("N", -5), -5, "negative integer reply")
	T.eq(db:incrby("N", 1 << 40), (1 << 40) - 5, "64-bit integer reply")
	local bin = "a\0b\r\nc\255"
	db:set("BIN", bin)
	T.eq(db:get "BIN", bin, "binary-safe value")
	local big = string.rep("0123456789abcdef", 65536)
	db:set("BIG", big)
	T.eq(db:get "BIG", big, "1 MiB value")
	T.eq(db:strlen "BIG", #big, "strlen of 1 MiB")

	-- nested arrays and nil elements
	db:del "L"
	db:rpush("L", "x", "y")
	local r = db:eval("return {1, 'two', {3, 'four'}, redis.call('get', 'no-key')}", 0)
	T.eq(r[1], 1, "eval integer")
	T.eq(r[2], "two", "eval string")
	T.same(r[3], { 3, "four" }, "eval nested array")
	T.same(db:mget("A", "no-key", "B"), { "hello world", nil, "world" }, "mget with a nil element")

	-- pipelines: with a result table every reply, errors included
	local res = db:pipeline({ { "set", "P", 1 }, { "incr", "P" }, { "lpush", "A", 1 }, { "get", "P" } }, {})
	T.eq(#res, 4, "one result per command")
	T.eq(res[1].ok, true) T.eq(res[1].out, "OK")
	T.eq(res[2].out, 2, "incr in a pipeline")
	T.eq(res[3].ok, false, "error inside a pipeline is reported")
	T.ok(res[3].out:find "WRONGTYPE", "its text")
	T.eq(res[4].out, "2", "get after the error")
	T.eq(db:pipeline { { "incr", "P" }, { "get", "P" } }, "3", "without a table: the last reply")

	-- many coroutines share the connection, each gets its own reply
	local done, bad = 0, 0
	for i = 1, 50 do
		skynet.fork(function()
			local k = "K" .. i
			db:set(k, i * 3)
			if tonumber(db:get(k)) ~= i * 3 then bad = bad + 1 end
			done = done + 1
		end)
	end
	T.eventually(function() return done == 50 end, "50 concurrent callers")
	T.eq(bad, 0, "every caller got its own reply")

	-- select: another database is another keyspace
	local db1 = redis.connect { host = host, port = port, db = 1 }
	db1:set("A", "in db 1")
	T.eq(db1:get "A", "in db 1", "db 1")
	T.eq(db:get "A", "hello world", "db 0 untouched")
	db1:disconnect()

	-- auth: the right password works, a wrong one fails
	local aport = tonumber(skynet.getenv "redis_auth_port")
	local adb = redis.connect { host = host, port = aport, auth = skynet.getenv "redis_auth" }
	T.eq(adb:ping(), "PONG", "authenticated")
	adb:disconnect()
	local noauth = redis.connect { host = host, port = aport }
	T.raises("NOAUTH", noauth.get, noauth, "A")
	noauth:disconnect()

	-- a server that is not there: connect fails at once
	T.raises("socket", redis.connect, { host = host, port = 1 })

	-- publish reaches the watcher, plain and pattern subscriptions
	for i = 1, 10 do
		db:publish("foo", i)
	end
	for i = 11, 20 do
		db:publish("hello.foo", i)
	end
	T.eventually(function() return #got == 20 end, "20 messages watched")
	T.same(got[1], { "1", "foo" }, "a message: data, channel")
	T.same(got[11], { "11", "hello.foo", "hello.*" }, "a pattern message: data, channel, pattern")
	T.eq(got[10][1], "10", "in order")

	db:disconnect()
end)
