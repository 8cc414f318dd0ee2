-- The start service of every node in the multinode tests.  It registers the
-- global name NODE<id> (commands below), prints "MN READY <id>", then plays the
-- role named by the config key `test_role`.  Lines starting with "MN " are what
-- the python side (mnlib.py) waits for.
local skynet = require "skynet"
require "skynet.manager"
local harbor = require "skynet.harbor"

local id = tonumber(skynet.getenv "harbor")
local nodes = tonumber(skynet.getenv "test_nodes" or 0) or 0
local hanging = {}

local function say(...)
	skynet.error("MN " .. table.concat({ ... }, " "))
end

local cmd = {}
function cmd.echo(...) return id, ... end
function cmd.hang() hanging[#hanging + 1] = skynet.response() return nil, true end
function cmd.exit() skynet.exit() end
function cmd.sink() return nil, true end

local flood_next, flood_bad = 1, nil
local flood_total = tonumber(skynet.getenv "test_flood" or 0) or 0
local flood_t0

local function flood_size(i)
	if i % 1000 == 0 then return 1024 * 1024 end        -- 1 MiB
	if i % 100 == 0 then return 64 * 1024 end
	return (i * 7919) % 1024 + 1                         -- 1 B .. 1 KiB
end

function cmd.flood(seq, payload)
	if flood_bad == nil then
		if seq ~= flood_next then
			flood_bad = "got " .. seq .. " expected " .. flood_next
		elseif #payload ~= flood_size(seq) or string.byte(payload, #payload) ~= seq % 251 then
			flood_bad = "bad payload for " .. seq
		end
	end
	flood_next = flood_next + 1
	if seq == flood_total then
		if flood_bad then
			say("FLOOD RECV BAD", flood_bad)
		else
			say("FLOOD RECV OK", seq, math.floor((skynet.now() - flood_t0) * 10), "ms")
		end
	end
	return nil, true
end

local role = {}

-- sends test_flood messages of mixed sizes to NODE<test_target>, which checks
-- that all arrive in order
function role.flood()
	local target = harbor.queryname("NODE" .. skynet.getenv "test_target")
	flood_t0 = skynet.now()
	for i = 1, flood_total do
		local n = flood_size(i)
		local payload = string.rep("x", n - 1) .. string.char(i % 251)
		skynet.send(target, "lua", "flood", i, payload)
		if i % 2000 == 0 then skynet.yield() end
	end
	say("FLOOD SENT", flood_total)
end

-- every node calls every other node by name and by handle, waits for names
-- with queryname, uses uniqueservice(true) and DATACENTER
function role.basic()
	local datacenter = require "skynet.datacenter"
	for k = 1, nodes do
		local h = harbor.queryname("NODE" .. k) -- blocks until node k registered
		local r, v = skynet.call("NODE" .. k, "lua", "echo", "by name " .. id)
		assert(r == k and v == "by name " .. id, "echo by name from " .. k)
		r, v = skynet.call(h, "lua", "echo", "by handle")
		assert(r == k and v == "by handle", "echo by handle")
	end
	say("CALLS OK", id)
	-- over harbor_max_message (the test sets 2 MiB): the caller sees an error
	local other = id % nodes + 1
	local ok = pcall(skynet.call, "NODE" .. other, "lua", "echo", string.rep("x", 3 * 1024 * 1024))
	assert(not ok, "a message over harbor_max_message was delivered")
	local r = skynet.call("NODE" .. other, "lua", "echo", string.rep("y", 1024 * 1024))
	assert(r == other)
	say("MAXMSG OK", id)
	local u = skynet.uniqueservice(true, "mn_unique")
	local uid, count = skynet.call(u, "lua", "who")
	say("UNIQUE", skynet.address(u), uid)
	datacenter.set("node", id, "hello from " .. id)
	for k = 1, nodes do
		local v = datacenter.wait("node", k)
		assert(v == "hello from " .. k)
	end
	say("DATACENTER OK", id)
	say("BASIC OK", id)
end

-- 100 calls to NODE<test_target> that never answer; report when they all fail
function role.pend()
	local target = "NODE" .. skynet.getenv "test_target"
	harbor.queryname(target)
	local n = tonumber(skynet.getenv "test_calls" or 100)
	local failed, done = 0, 0
	local t0
	for i = 1, n do
		skynet.fork(function()
			local ok = pcall(skynet.call, target, "lua", "hang")
			if not ok then failed = failed + 1 end
			done = done + 1
			if done == n then
				say("FAILED", failed, math.floor((skynet.now() - t0) * 10), "ms")
			end
		end)
	end
	skynet.sleep(20) -- let every call leave
	t0 = skynet.now()
	say("PENDING", n)
end

-- calls NODE<test_target> forever, reporting successes and failures
function role.traffic()
	local target = "NODE" .. skynet.getenv "test_target"
	harbor.queryname(target)
	local ok_n, fail_n = 0, 0
	skynet.fork(function()
		while true do
			skynet.sleep(20)
			say("TRAFFIC", ok_n, fail_n)
		end
	end)
	while true do
		local ok = pcall(skynet.call, target, "lua", "echo", ok_n)
		if ok then ok_n = ok_n + 1 else fail_n = fail_n + 1 skynet.sleep(1) end
		skynet.sleep(1)
	end
end

-- waits for node <test_target> to come up, then echoes with it
function role.rejoin()
	local t = tonumber(skynet.getenv "test_target")
	while true do
		harbor.connect(t)
		local h = harbor.queryname("NODE" .. t)
		local ok, r = pcall(skynet.call, "NODE" .. t, "lua", "echo", "x")
		if ok and r == t then
			say("REJOINED", t)
		end
		harbor.link(t) -- until it goes down again
		say("DOWN", t)
	end
end

function role.idle() end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, ...)
		local f = assert(cmd[c], c)
		local r = table.pack(f(...))
		if r[2] == true and r[1] == nil then return end
		skynet.ret(skynet.pack(table.unpack(r, 1, r.n)))
	end)
	skynet.register("NODE" .. id)
	say("READY", id)
	local r = skynet.getenv "test_role" or "idle"
	skynet.fork(role[r])
end)
