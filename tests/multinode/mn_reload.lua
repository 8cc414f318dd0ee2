-- Start service of test_reload.py (hot reload across a harbor of three nodes).
--
-- Each node starts two instances of the service type rl_handler (its files,
-- rl_handler.lua and its module rl_impl.lua, are written by the python side
-- into the test's directory, which is on luaservice and lua_path) and
-- registers them as the global names rlh<id>a and rlh<id>b.  It prints
-- "MN READY <id>", then runs the lines the python side appends to cmd<id>:
--   go               one caller thread per handler of every node: a call
--                    ("ask", n) after another, as long as the node runs
--   expect <prefix>  every call started from now on must be answered with a
--                    text starting with <prefix> (the new code), or with
--                    newer code still
--   spawn            starts one more rl_handler and prints its answer
--   snax / snaxask   starts the snax service rl_snax / asks it again: prints
--                    "MN RELOAD SNAX node=<id> <answer>"
--   report           "MN RELOAD REPORT node=<id> calls=<n> fails=<n>
--                    stale=<n> handles=<same|changed> fresh=<n>": fresh is
--                    the fewest calls any handler answered since the last
--                    expect (0 would mean a caller is stuck: a lost call)
local skynet = require "skynet"
package.path = SERVICE_PATH .. "?.lua;" .. package.path
local cmdfile = require "mn_cmdfile"
local harbor = require "skynet.harbor"

-- cluster mode (tests/cluster/test_reload.py): cl_name names this node,
-- test_peers lists every node; handlers are the cluster names rlha, rlhb
local cl_name = skynet.getenv "cl_name"
local cluster = cl_name and require "skynet.cluster"
local id = cl_name or tonumber(skynet.getenv "harbor") or 0
local node_list = {}
if cl_name then
	for n in (skynet.getenv "test_peers"):gmatch("[^,]+") do node_list[#node_list + 1] = n end
else
	for n = 1, tonumber(skynet.getenv "test_nodes") or 3 do node_list[n] = n end
end

-- target "rlh<node><a|b>": where it is now, and a call to it
local function resolve(node, s)
	if cluster then
		return cluster.query(node, "rlh" .. s)
	end
	return harbor.queryname("rlh" .. node .. s)
end

local function ask(node, s, h, n)
	if cluster then
		return cluster.call(node, h, "ask", n)
	end
	return skynet.call(h, "lua", "ask", n)
end

local function say(...)
	skynet.error("MN " .. table.concat({ ... }, " "))
end

local snax_obj      -- the rl_snax service (snax, snaxask)
local expect = nil  -- prefix the answers of calls started now must have
local calls, fails, stale = 0, 0, 0
local fresh = {}    -- target name -> calls answered since the last expect
local handles = {}  -- target name -> handle when first resolved

-- expects in the order given: an answer is stale when its prefix came
-- before the one expected; a prefix never expected is newer code (a call may
-- start before its node reads the expect that a reload already made true)
local order = {}
local function rank(text)
	for i = #order, 1, -1 do
		local p = order[i]
		if text:sub(1, #p) == p then return i end
	end
	return math.huge
end

local function caller(node, s)
	local name = "rlh" .. node .. s
	local h = resolve(node, s)
	handles[name] = h
	local n = 0
	while true do
		n = n + 1
		local want = expect
		local ok, answer = pcall(ask, node, s, h, n)
		calls = calls + 1
		if not ok then
			fails = fails + 1
			say("RELOAD FAIL", name, tostring(answer))
		elseif want and rank(answer) < rank(want) then
			stale = stale + 1
			say("RELOAD STALE", name, "want " .. want, "got " .. tostring(answer))
		elseif want == expect then
			fresh[name] = (fresh[name] or 0) + 1
		end
		skynet.sleep(1)
	end
end

local function report()
	local least = math.huge
	local same = "same"
	for _, node in ipairs(node_list) do
		for _, s in ipairs { "a", "b" } do
			local name = "rlh" .. node .. s
			least = math.min(least, fresh[name] or 0)
			if handles[name] and resolve(node, s) ~= handles[name] then same = "changed" end
		end
	end
	say("RELOAD REPORT node=" .. id, "calls=" .. calls, "fails=" .. fails, "stale=" .. stale,
		"handles=" .. same, "fresh=" .. least)
end

local function driver()
	cmdfile.follow((skynet.getenv "test_cmddir" or ".") .. "/cmd" .. id, function(cmd, arg)
		if cmd == "go" then
			for _, node in ipairs(node_list) do
				for _, s in ipairs { "a", "b" } do
					skynet.fork(caller, node, s)
				end
			end
			say("RELOAD GOING node=" .. id)
		elseif cmd == "expect" then
			expect = arg
			order[#order + 1] = arg
			fresh = {}
			say("RELOAD EXPECT node=" .. id, arg)
		elseif cmd == "spawn" then
			local h = skynet.newservice "rl_handler"
			say("RELOAD NEW node=" .. id, (skynet.call(h, "lua", "ask", 0)))
		elseif cmd == "snax" or cmd == "snaxask" then
			local snax = require "skynet.snax"
			if cmd == "snax" then snax_obj = snax.newservice "rl_snax" end
			say("RELOAD SNAX node=" .. id, snax_obj.req.ask())
		elseif cmd == "report" then
			report()
		end
	end)
end

skynet.start(function()
	for _, s in ipairs { "a", "b" } do
		local h = skynet.newservice "rl_handler"
		if cluster then
			cluster.register("rlh" .. s, h)
		else
			harbor.globalname("rlh" .. id .. s, h)
		end
	end
	if cluster then
		cluster.open(id)
		skynet.uniqueservice "reloadd" -- (cluster.open starts it too; wait until it is there)
	end
	say("READY", id)
	skynet.fork(driver)
end)
