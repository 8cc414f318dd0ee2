-- The Lua half of db.bench.py: Redis GETs one at a time and pipelined, and
-- MySQL "SELECT 1" one at a time, each for the count given in the config;
-- prints "DBBENCH <name> <ops/s>" lines, then "DBBENCH DONE".
local skynet = require "skynet"
local redis = require "skynet.db.redis"
local mysql = require "skynet.db.mysql"

local function rate(name, n, f)
	local t0 = skynet.hpc()
	f()
	local secs = (skynet.hpc() - t0) / 1e9
	print(string.format("DBBENCH %s %.0f", name, n / secs))
end

skynet.start(function()
	skynet.fork(function()
		local n = tonumber(skynet.getenv "bench_n")
		local host = skynet.getenv "db_host"
		local r = redis.connect { host = host, port = tonumber(skynet.getenv "redis_port") }
		r:set("bench:key", "xxx")
		rate("redis_get", n, function()
			for _ = 1, n do assert(r:get "bench:key" == "xxx") end
		end)
		local batch = {}
		for i = 1, 100 do batch[i] = { "get", "bench:key" } end
		rate("redis_get_pipelined", n, function()
			local out = {}
			for _ = 1, n // 100 do
				r:pipeline(batch, out)
				assert(out[100].out == "xxx")
				for i = 1, #out do out[i] = nil end
			end
		end)
		r:disconnect()
		local db = mysql.connect {
			host = host, port = tonumber(skynet.getenv "mysql_port"), database = skynet.getenv "mysql_database",
			user = skynet.getenv "mysql_user", password = skynet.getenv "mysql_password",
		}
		rate("mysql_select", n, function()
			for _ = 1, n do assert(db:query("SELECT 1 AS one")[1].one == 1) end
		end)
		db:disconnect()
		print "DBBENCH DONE"
		skynet.abort()
	end)
end)
