-- soak_node: the traffic of the fault soak (soak.py), one per harbor node.
-- Registers the global name soak<id>, and for every other node p runs a loop
-- that, while p is up, sends one-way "push" messages and makes "ping" calls to
-- soak<p>, both numbered.  The receiving side checks every push stream.
--
-- Streams and "accepted": a push carries (from, incarnation, epoch, seq).  The
-- sender starts a new epoch (seq from 1) each time it (re)connects to p, and
-- ends it as soon as its harbor reports p down.  The receiver starts a fresh
-- expectation for a stream on a new incarnation or epoch, or when its own
-- harbor reported the sender's node down since the last push.  Within one
-- epoch with no node-down seen at either end, every push must arrive exactly
-- once and in order: seq == last + 1.  Anything else logs SOAK ANOMALY.
--
-- Calls: every call's duration is measured; one over harbor_timeout + 1 s logs
-- SOAK SLOWCALL <peer> <seconds> <wall start>.  Every second a line
--   SOAK STAT <id> rx <n> anomalies <n> ok <n> fail <n> oldest <s>
-- gives the counters and the age of the oldest call still waiting.
-- With config key demo_node set (soak.py --bots), the node also starts the
-- demo game's demo_main, so the demo's bots play through the same faults.
local skynet = require "skynet"
local harbor = require "skynet.harbor"

local id = tonumber(skynet.getenv "harbor")
local nodes = tonumber(skynet.getenv "soak_nodes") or 3
local timeout = tonumber(skynet.getenv "harbor_timeout") or 2
local incarnation = math.floor(skynet.time() * 1000) % 1000000000

local streams = {}    -- "<from>:<inc>" -> { epoch, last, down }
local down_seen = {}  -- node id -> node-down events seen here
local outstanding = {} -- peer -> start (skynet.now()) of its waiting call
local rx, anomalies, calls_ok, calls_fail = 0, 0, 0, 0

local function anomaly(fmt, ...)
	anomalies = anomalies + 1
	skynet.error("SOAK ANOMALY " .. string.format(fmt, ...))
end

local function on_push(from, inc, epoch, seq)
	rx = rx + 1
	local key = from .. ":" .. inc
	local s = streams[key]
	local downs = down_seen[from] or 0
	if s == nil or epoch > s.epoch or s.down ~= downs then
		streams[key] = { epoch = epoch, last = seq, down = downs }
		return
	end
	if epoch < s.epoch then
		anomaly("from %d inc %d: epoch %d after epoch %d", from, inc, epoch, s.epoch)
		return
	end
	if seq ~= s.last + 1 then
		anomaly("from %d inc %d epoch %d: seq %d after %d (%s)", from, inc, epoch, seq, s.last,
			seq > s.last + 1 and "lost" or "reordered or duplicated")
	end
	if seq > s.last then
		s.last = seq
	end
end

local function watch(p)
	while true do
		harbor.connect(p)
		harbor.link(p)
		down_seen[p] = (down_seen[p] or 0) + 1
	end
end

local function traffic(p)
	local epoch = 0
	while true do
		harbor.connect(p)
		local ok, h = pcall(harbor.queryname, "soak" .. p)
		if ok and h and h ~= 0 then
			epoch = epoch + 1
			local alive = true
			skynet.fork(function()
				harbor.link(p)
				alive = false
			end)
			local seq = 0
			while alive do
				seq = seq + 1
				skynet.send(h, "lua", "push", id, incarnation, epoch, seq)
				local t0, wall = skynet.now(), skynet.time()
				outstanding[p] = t0
				local cok, r = pcall(skynet.call, h, "lua", "ping", id, seq)
				outstanding[p] = nil
				if cok and r == seq then
					calls_ok = calls_ok + 1
				else
					calls_fail = calls_fail + 1
				end
				local dt = (skynet.now() - t0) / 100
				if dt > timeout + 1 then
					skynet.error(string.format("SOAK SLOWCALL %d %.2f %.3f", p, dt, wall))
				end
				skynet.sleep(2)
			end
		else
			skynet.sleep(20)
		end
	end
end

local function stats()
	while true do
		skynet.sleep(100)
		local now, oldest = skynet.now(), 0
		for _, t0 in pairs(outstanding) do
			oldest = math.max(oldest, (now - t0) / 100)
		end
		skynet.error(string.format("SOAK STAT %d rx %d anomalies %d ok %d fail %d oldest %.2f",
			id, rx, anomalies, calls_ok, calls_fail, oldest))
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, from, a, b, c)
		if cmd == "push" then
			on_push(from, a, b, c)
		elseif cmd == "ping" then
			skynet.ret(skynet.pack(a))
		end
	end)
	harbor.globalname("soak" .. id)
	for p = 1, nodes do
		if p ~= id then
			skynet.fork(watch, p)
			skynet.fork(traffic, p)
		end
	end
	skynet.fork(stats)
	-- with soak.py --bots, every node also runs its part of the demo game
	-- (deploy/demo: match, login and gate on node 1, rooms on the others)
	if skynet.getenv "demo_node" then
		skynet.newservice "demo_main"
	end
	skynet.error("SOAK READY " .. id)
end)
