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
function cmd.spawn(...) return skynet.newservice(...) end
function cmd.callname(name, ...) return pcall(skynet.call, name, "lua", ...) end

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

-- this node's harbor STATS: { self = fields, [peer id] = fields, lines = { [peer id] = text } }
local function harbor_stats()
	local t = { lines = {} }
	for line in skynet.call(".harbor", "harbor", "STATS"):gmatch("[^\n]+") do
		local f = {}
		for k, v in line:gmatch("([%w_]+)=(%S+)") do f[k] = v end
		if line:match("^self ") then
			t.self = f
		elseif line:match("^peer ") then
			t[tonumber(f.id)] = f
			t.lines[tonumber(f.id)] = line
		end
	end
	return t
end

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
				say("STATS", harbor_stats().lines[tonumber(skynet.getenv "test_target")])
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

local function eventually(f, what, ticks)
	for _ = 1, ticks or 500 do
		if f() then return end
		skynet.sleep(1)
	end
	error("timeout: " .. what)
end

-- multicast across nodes (test_multicast.py).  Every node runs this; the
-- channel belongs to node test_owner.  Nodes step together through datacenter
-- barriers.  On every node, services a and b subscribe; a publishes.
function role.mcast()
	local datacenter = require "skynet.datacenter"
	local owner = tonumber(skynet.getenv "test_owner")
	local function barrier(name)
		datacenter.set("mc", name, id, true)
		for k = 1, nodes do datacenter.wait("mc", name, k) end
	end
	local a, b = skynet.newservice "mn_mcsub", skynet.newservice "mn_mcsub"
	local c
	if id == owner then
		c = skynet.call(a, "lua", "new")
		assert(c & 0xff == id, "the owner node is in the low 8 bits")
		datacenter.set("mc", "chan", c)
	else
		c = datacenter.wait("mc", "chan")
	end
	datacenter.set("mc", "pub", id, a)
	skynet.call(a, "lua", "sub", c)
	skynet.call(b, "lua", "sub", c)
	barrier("sub")
	local pub = {}
	for k = 1, nodes do pub[k] = datacenter.get("mc", "pub", k) end

	-- every received message: source = the publisher, each publisher in order
	local function check(s, want)
		local got = skynet.call(s, "lua", "got")
		assert(#got == want, string.format("%s got %d messages, want %d", skynet.address(s), #got, want))
		local next_i = {}
		for _, m in ipairs(got) do
			local source, tag, k, i = table.unpack(m)
			local key = tag .. k
			next_i[key] = (next_i[key] or 0) + 1
			assert(i == next_i[key], string.format("%s from node %d: got #%d, want #%d", tag, k, i, next_i[key]))
			assert(source == pub[k], string.format("source %s, want %s", skynet.address(source), skynet.address(pub[k])))
		end
	end
	local function count(s) return #skynet.call(s, "lua", "got") end

	-- 1. owner and non-owners publish; every subscriber on every node gets all
	skynet.call(a, "lua", "pub", "p1", 10)
	eventually(function() return count(a) == 10 * nodes and count(b) == 10 * nodes end, "phase 1")
	check(a, 10 * nodes) check(b, 10 * nodes)
	say("MC PUBLISH OK", id)
	barrier("p1")

	-- 2. node 1 unsubscribes both (the node leaves the channel), every other
	-- node unsubscribes b (the node stays)
	if id == 1 then skynet.call(a, "lua", "unsub") end
	skynet.call(b, "lua", "unsub")
	barrier("unsub")
	if id == owner then
		local want = {}
		for k = 2, nodes do if k ~= owner then want[#want + 1] = k end end
		eventually(function()
			local info = skynet.call(a, "lua", "info", c)
			return info.subscribers == 1 and table.concat(info.nodes, ",") == table.concat(want, ",")
		end, "node 1 left the channel")
	end
	barrier("left")
	skynet.call(a, "lua", "pub", "p2", 5)
	local subscribed = id ~= 1
	if subscribed then
		eventually(function() return count(a) == 15 * nodes end, "phase 2")
		check(a, 15 * nodes)
	end
	barrier("p2")
	check(b, 10 * nodes)
	if not subscribed then check(a, 10 * nodes) end
	say("MC UNSUBSCRIBE OK", id)

	-- 3. a non-owner (the last node) deletes the channel through the owner
	if id == nodes then skynet.call(a, "lua", "del") end
	if id == owner or id == nodes then
		eventually(function() return skynet.call(a, "lua", "info", c) == nil end, "channel deleted")
	end
	barrier("del")
	if id ~= nodes then skynet.call(a, "lua", "pub", "p3", 1) end -- goes nowhere
	local late = skynet.newservice "mn_mcsub"
	assert(not pcall(skynet.call, late, "lua", "sub", c), "subscribed to a deleted channel")
	barrier("p3")
	skynet.call(late, "lua", "got") -- a round trip after the last publish
	check(a, subscribed and 15 * nodes or 10 * nodes)
	check(b, 10 * nodes)
	say("MC DELETE OK", id)

	-- 4. a multicast package pointer is refused at the node boundary
	local core = require "skynet.core"
	local other = id % nodes + 1
	core.send(pub[other], skynet.PTYPE_MULTICAST, c, string.rep("\0", 8))
	say("MC DONE", id)

	-- 5. the last node subscribes to a new channel of the owner, then is frozen
	-- (SIGSTOP by the test) until both sides declare the link down; once it is
	-- back it joins the channel again by itself
	if id == owner then
		local p = skynet.newservice "mn_mcsub"
		datacenter.set("mc", "chan2", skynet.call(p, "lua", "new"))
		datacenter.wait("mc", "sub2")
		harbor.link(nodes) -- until the last node is down
		harbor.connect(nodes) -- and back
		while not datacenter.get("mc", "rejoined") do
			skynet.call(p, "lua", "pub", "p4", 1)
			skynet.sleep(5)
		end
		say("MC REJOIN PUB DONE")
	elseif id == nodes then
		local s = skynet.newservice "mn_mcsub"
		skynet.call(s, "lua", "sub", datacenter.wait("mc", "chan2"))
		datacenter.set("mc", "sub2", true)
		say("MC SUB2 READY")
		harbor.link(owner)
		harbor.connect(owner)
		eventually(function() return count(s) > 0 end, "a message after the rejoin", 1500)
		datacenter.set("mc", "rejoined", true)
		say("MC REJOIN OK")
	end
end

-- global names on service exit and the name queue (test_names.py); runs on
-- node 3 and spawns services on node test_target.  Needs harbor_name_queue = 50.
function role.names()
	local target = "NODE" .. skynet.getenv "test_target"
	local tmo = math.floor(tonumber(skynet.getenv "harbor_name_timeout") * 100) -- ticks
	harbor.queryname(target)
	local function known(name) -- this node's binding now, 0 if none
		local r = skynet.call(".harbor", "harbor", "NAME", name)
		return tonumber(string.sub(r, 2), 16)
	end
	local function timed_call(...) -- ok, result, elapsed ticks
		local t0 = skynet.now()
		local ok, r = pcall(skynet.call, ...)
		return ok, r, skynet.now() - t0
	end

	-- 1. a service of the other node holds SVC; it exits
	local a = skynet.call(target, "lua", "spawn", "mn_named", "A", "SVC")
	assert(harbor.queryname("SVC") == a)
	assert(skynet.call("SVC", "lua", "who") == "A")
	skynet.send("SVC", "lua", "exit")
	local ok, _, dt = timed_call("SVC", "lua", "who")
	assert(not ok, "a call to an exited service succeeded")
	assert(dt <= tmo + 50, "a call to an exited service took " .. dt .. " ticks")
	-- the name is withdrawn everywhere within a tick check
	eventually(function() return known("SVC") == 0 end, "SVC withdrawn", 300)
	local ok2, err = skynet.call(target, "lua", "callname", "SVC", "who")
	assert(not ok2, "node 2 still reaches SVC")
	-- nobody holds it: a call waits, then fails after harbor_name_timeout
	ok, _, dt = timed_call("SVC", "lua", "who")
	assert(not ok, "a call to a withdrawn name succeeded")
	assert(dt >= tmo * 0.9 and dt <= tmo + 100, "withdrawn name: failed after " .. dt .. " ticks")
	say("NAMES WITHDRAWN", dt * 10, "ms")
	-- 2. a service of this node takes the free name; both nodes reach it
	skynet.newservice("mn_named", "C", "SVC")
	assert(skynet.call("SVC", "lua", "who") == "C")
	eventually(function()
		local ok3, who = skynet.call(target, "lua", "callname", "SVC", "who")
		return ok3 and who == "C"
	end, "node 2 reaches the new SVC")
	say("NAMES REREGISTERED")
	-- 3. on the other node, a service takes over the name of an exited service
	-- at once (before the tick check)
	local b = skynet.call(target, "lua", "spawn", "mn_named", "B", "SVC2")
	assert(harbor.queryname("SVC2") == b and skynet.call("SVC2", "lua", "who") == "B")
	skynet.send(b, "lua", "exit")
	assert(not pcall(skynet.call, b, "lua", "who"), "B is still alive")
	local b2 = skynet.call(target, "lua", "spawn", "mn_named", "B2", "SVC2")
	eventually(function() return known("SVC2") == b2 end, "SVC2 moved to B2", 300)
	assert(skynet.call("SVC2", "lua", "who") == "B2")
	say("NAMES TAKEOVER")

	-- 4. a name nobody ever registers: the call fails after harbor_name_timeout
	ok, _, dt = timed_call("NEVER", "lua", "who")
	assert(not ok and dt >= tmo * 0.9 and dt <= tmo + 100, "NEVER: " .. tostring(ok) .. " " .. dt)
	say("NAMES TIMEOUT", dt * 10, "ms")

	-- 5. 50 calls wait for LATER (the queue is full), the 51st fails at once;
	-- LATER appears on the other node: the 50 are delivered in order
	local results, done = {}, 0
	for i = 1, 50 do
		skynet.fork(function()
			local okc, tag, j = pcall(skynet.call, "LATER", "lua", "seq", i)
			results[i] = okc and tag == "L" and j == i
			done = done + 1
		end)
	end
	skynet.yield() -- every fork has sent its call
	ok, _, dt = timed_call("LATER", "lua", "seq", 51)
	assert(not ok, "the 51st queued call succeeded")
	assert(dt < 20, "the 51st call failed only after " .. dt .. " ticks")
	skynet.call(target, "lua", "spawn", "mn_named", "L", "LATER")
	eventually(function() return done == 50 end, "the 50 queued calls")
	for i = 1, 50 do assert(results[i], "queued call " .. i .. " failed") end
	local seqs = skynet.call("LATER", "lua", "seqs")
	assert(#seqs == 50, "LATER got " .. #seqs .. " calls")
	for i = 1, 50 do assert(seqs[i] == i, "LATER got call " .. seqs[i] .. " as #" .. i) end
	say("NAMES QUEUE OK")

	-- 6. STATS: both links up, counted, heartbeat round trips measured
	eventually(function()
		local st = harbor_stats()
		return st[1] and st[1].rtt_us ~= "-" and st[2] and st[2].rtt_us ~= "-"
	end, "heartbeat round trips", 500)
	local st = harbor_stats()
	assert(st.self.id == tostring(id) and st.self.master == "up", "self line")
	for k = 1, 2 do
		local p = st[k]
		assert(p.state == "up" and tonumber(p.frames_out) > 0 and tonumber(p.bytes_out) > 0 and
			tonumber(p.frames_in) > 0 and tonumber(p.bytes_in) > 0 and tonumber(p.hb_age_ms) < 2000 and
			tonumber(p.rtt_us) > 0 and p.calls_failed == "0", "STATS line: " .. st.lines[k])
	end
	say("STATS", st.lines[2])
	say("NAMES DONE")
end

-- the node under attack in test_attack.py: reports this node's STATS line
-- for node test_watch and what it knows of some global names, when they change
function role.victim()
	local watch = tonumber(skynet.getenv "test_watch")
	local function known(name)
		return skynet.call(".harbor", "harbor", "NAME", name)
	end
	local last
	while true do
		local st = harbor_stats()
		local p = st[watch]
		local line = string.format("refused=%s names EVIL1%s EVIL0%s MINE%s",
			p and p.refused or "-", known("EVIL1"), known("EVIL0"), known("MINE"))
		if line ~= last then
			say("WATCH", line)
			last = line
		end
		skynet.sleep(5)
	end
end

-- a debug-protocol call (PTYPE_DEBUG) to NODE<test_target>: test_debug.py
function role.debugcall()
	local target = "NODE" .. skynet.getenv "test_target"
	harbor.queryname(target)
	local t0 = skynet.now()
	local ok = pcall(skynet.call, target, "debug", "PING")
	local dt = (skynet.now() - t0) * 10
	-- a plain call still works either way
	local r = skynet.call(target, "lua", "echo", "after")
	say("DEBUG", ok and "OK" or "FAILED", dt, "ms", "echo", r)
end

-- call failure reasons (test_reasons.py): calls NAME (test_name) on node
-- test_target until they fail (the node was killed), then reports the next call
-- by name and one by handle: their error text and how long they took; then the
-- peer's STATS line and what nodestatus and the metrics text make of it.
local function report_failures(target, name, h)
	local t0 = skynet.now()
	local ok, err = pcall(skynet.call, name, "lua", "echo")
	say("BYNAME", ok and "OK" or "FAILED", (skynet.now() - t0) * 10, "ms", tostring(err))
	if h then
		t0 = skynet.now()
		ok, err = pcall(skynet.call, h, "lua", "echo")
		say("BYHANDLE", ok and "OK" or "FAILED", (skynet.now() - t0) * 10, "ms", tostring(err))
	end
	local st = harbor_stats()
	say("SELF", "name=" .. tostring(st.self.name))
	say("STATS", st.lines[target])
	local nodestatus = require "skynet.nodestatus"
	for _, n in ipairs(nodestatus.get().nodes) do
		say("NODESTATUS", n.id, n.name, n.state, n.calls_failed or "-")
	end
	local text = require("skynet.nodemetrics").new({}):render()
	for line in text:gmatch("[^\n]+") do
		if line:match("^skiff_harbor_calls_failed_total") or line:match("^skiff_harbor_peer_info") then
			say("METRIC", line)
		end
	end
end

function role.reasons()
	local target = tonumber(skynet.getenv "test_target")
	local name = skynet.getenv "test_name"
	local h = harbor.queryname(name)
	local r = skynet.call(name, "lua", "echo")
	assert(r == target, "echo by name answered by " .. tostring(r))
	say("NAMED", name, skynet.address(h))
	while true do
		local ok, err = pcall(skynet.call, name, "lua", "echo")
		if not ok then
			say("FIRST", tostring(err))
			break
		end
		skynet.sleep(1)
	end
	report_failures(target, name, h)
end

-- a node that never resolved test_name asks for it after its node went down
-- then, once that node is back, the name resolves again
function role.reasons_late()
	local target = tonumber(skynet.getenv "test_target")
	local name = skynet.getenv "test_name"
	report_failures(target, name, nil)
	harbor.connect(target)
	local ok, r = pcall(skynet.call, name, "lua", "echo")
	say("RESOLVED", ok and r == target and "OK" or ("FAILED " .. tostring(r)))
end

-- tests/bench/harbor_scale.py: waits for a link to every node (MESH), then
-- calls every node by name at once and waits for all answers (ALLTOALL)
function role.scale()
	local t0 = skynet.now()
	for k = 1, nodes do
		if k ~= id then harbor.connect(k) end
	end
	say("MESH", (skynet.now() - t0) * 10, "ms")
	t0 = skynet.now()
	local left, bad = nodes, 0
	local me = coroutine.running()
	for k = 1, nodes do
		skynet.fork(function()
			local ok, r = pcall(skynet.call, "NODE" .. k, "lua", "echo")
			if not ok or r ~= k then bad = bad + 1 end
			left = left - 1
			if left == 0 then skynet.wakeup(me) end
		end)
	end
	skynet.wait(me)
	say("ALLTOALL", (skynet.now() - t0) * 10, "ms", bad, "failed")
	-- then, idle: what the harbor services cost on their own (profile = true)
	local metrics = require "skynet.metrics"
	local function harbor_counters()
		local msgs, cpu = 0, 0
		for _, m in ipairs(metrics.collect().modules) do
			if m.name == "harbor" or m.name == "harbor_master" then
				msgs, cpu = msgs + m.messages, cpu + m.cpu
			end
		end
		return msgs, cpu
	end
	skynet.sleep(tonumber(skynet.getenv "scale_settle" or 300))
	local m1, c1 = harbor_counters()
	local w0 = skynet.now()
	skynet.sleep(1000)
	local m2, c2 = harbor_counters()
	local secs = (skynet.now() - w0) / 100
	say("HARBOR IDLE", string.format("%.1f", (m2 - m1) / secs), "msgs/s",
		string.format("%.0f", (c2 - c1) * 1e6 / secs), "us/s")
end

function role.idle() end

-- test_leaving.py: this node drains (SIGTERM) with a hook that sleeps 2 s;
-- calls to it answer its `.shutdown` state
function cmd.drainstate()
	return id, skynet.call(".shutdown", "lua", "state")
end

function role.leaver()
	require("skynet.shutdown").hook(function(reason)
		say("LEAVE HOOK begins", reason, harbor.state(id))
		skynet.sleep(200)
		say("LEAVE HOOK done")
	end, "sleep 2s")
	say("LEAVER READY")
end

-- test_leaving.py: calls NODE<test_target> every 100 ms and says how each
-- went (and how long it took), and says the target's harbor state when it changes
function role.leavecall()
	local target = tonumber(skynet.getenv "test_target")
	local last
	while true do
		local t0 = skynet.hpc()
		local ok, a, b = pcall(skynet.call, "NODE" .. target, "lua", "drainstate")
		local ms = (skynet.hpc() - t0) / 1e6
		if ok then
			say("LEAVECALL ok", a, b, string.format("%.1fms", ms))
		else
			say("LEAVECALL fail", string.format("%.1fms", ms), tostring(a))
		end
		local st = harbor.state(target)
		if st ~= last then
			say("LEAVESTATE", target, st)
			last = st
		end
		skynet.sleep(10)
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, c, ...)
		local f = assert(cmd[c], c)
		local r = table.pack(f(...))
		if r[2] == true and r[1] == nil then return end
		skynet.ret(skynet.pack(table.unpack(r, 1, r.n)))
	end)
	skynet.register("NODE" .. id)
	for extra in string.gmatch(skynet.getenv "test_register" or "", "%S+") do
		skynet.register(extra)
	end
	say("READY", id)
	local r = skynet.getenv "test_role" or "idle"
	skynet.fork(role[r])
end)
