-- Start service of tests/multinode/test_shared.py (cluster-wide shared data
-- over a harbor) and of tests/cluster/test_shared.py (the same over cluster
-- mode: the node opens its cl_name first), and its reader services (args
-- "reader", n).
--
-- The start service prints "MN READY <id>", starts READERS readers, then
-- runs the commands the python side appends to the file cmd<id> (in the
-- node's working directory), one per line:
--   update <v>   sharedata "cfg" and sharetable "cfgt" become version v
--   delete       sharedata "gone" is deleted (new: created)
--   probe        prints whether "gone" is there; which: the version of "cfg"
--                this node holds (counter/origin) and its data's ver
-- Every version of the data is N records { ver = v, i = i } plus ver = v at
-- the top, so a reader that saw a mix of two versions can tell.
--
-- A reader follows sharedata "cfg" (it switches by itself) and polls
-- sharetable "cfgt"; every tick it checks that every record it can see has
-- the version of its root, and prints "MN SHARED SEEN ..." on each new
-- version and "MN SHARED MIX ..." on a mix.  It also keeps the first
-- sharetable table it got and checks it stays whole and unchanged (a reader
-- holding an old version keeps it until it lets go).
local skynet = require "skynet"
package.path = SERVICE_PATH .. "?.lua;" .. package.path
local cmdfile = require "mn_cmdfile"
local sharedata = require "skynet.sharedata"
local sharetable = require "skynet.sharetable"

local N = 2000
local READERS = 3
-- harbor mode: the node id; cluster mode (tests/cluster/test_shared.py): the node name
local id = skynet.getenv "cl_name" or tonumber(skynet.getenv "harbor") or 0
local cmdpath = (skynet.getenv "test_cmddir" or ".") .. "/cmd" .. id

local function say(...)
	skynet.error("MN " .. table.concat({ ... }, " "))
end

local function make(v)
	local rec = {}
	for i = 1, N do
		rec[i] = { ver = v, i = i, name = "item" .. i }
	end
	return { ver = v, rec = rec }
end

-- "" when t is whole at version t.ver, else what is wrong
local function check(t)
	local v = t.ver
	local rec = t.rec
	if #rec ~= N then
		return "records " .. #rec
	end
	for i = 1, N do
		local r = rec[i]
		if r.ver ~= v or r.i ~= i then
			return string.format("record %d has ver %s in version %s", i, tostring(r.ver), tostring(v))
		end
	end
	return ""
end

local function reader(n)
	local cfg
	while true do
		local ok, t = pcall(sharedata.query, "cfg")
		if ok then cfg = t break end
		skynet.sleep(5)
	end
	local held = sharetable.query("cfgt")
	local held_ver = held and held.ver
	local seen, seen_t, ticks = nil, nil, 0
	while true do
		local bad = check(cfg)
		if bad ~= "" then say("SHARED MIX node=" .. tostring(id), "reader=" .. n, "sharedata", bad) end
		if cfg.ver ~= seen then
			seen = cfg.ver
			say("SHARED SEEN node=" .. id, "reader=" .. n, "ver=" .. seen)
		end
		ticks = ticks + 1
		if ticks % 5 == 0 then
			local t = sharetable.query("cfgt")
			if t then
				bad = check(t)
				if bad ~= "" then say("SHARED MIX node=" .. tostring(id), "reader=" .. n, "sharetable", bad) end
				if t.ver ~= seen_t then
					seen_t = t.ver
					say("SHARETABLE SEEN node=" .. id, "reader=" .. n, "ver=" .. seen_t)
				end
				if held == nil then held, held_ver = t, t.ver end
			end
			if held then
				bad = check(held)
				if bad ~= "" or held.ver ~= held_ver then
					say("SHARED MIX node=" .. tostring(id), "reader=" .. n, "held", bad, tostring(held.ver))
				end
			end
		end
		skynet.sleep(1)
	end
end

local function driver()
	cmdfile.follow(cmdpath, function(cmd, arg)
		if cmd == "update" then
			local v = tonumber(arg)
			sharedata.update("cfg", make(v))
			sharetable.loadtable("cfgt", make(v))
			say("SHARED UPDATED node=" .. id, "ver=" .. v)
		elseif cmd == "delete" then
			sharedata.delete("gone")
			say("SHARED DELETED node=" .. id)
		elseif cmd == "new" then
			sharedata.new("gone", { x = 1 })
			say("SHARED NEW node=" .. id)
		elseif cmd == "which" then
			-- the version this node's sharedatad holds for "cfg", and its data's ver
			local r = require "skynet.sharebox_reader"
			local sb = require "skynet.sharebox"
			local v, o = r.call("version", "sharedata", "cfg")
			local h = r.call("query", "sharedata", "cfg")
			local ver = h and sb.root(sb.open(h)).ver
			say("SHARED WHICH node=" .. id, "version=" .. tostring(v) .. "/" .. tostring(o),
				"ver=" .. tostring(ver))
		elseif cmd == "probe" then
			-- is "gone" there (node-local answer after catch-up)?
			local r = require "skynet.sharebox_reader"
			local h = r.call("query", "sharedata", "gone")
			if h then require("skynet.sharebox").release(h) end
			say("SHARED PROBE node=" .. id, h and "present" or "absent")
		end
	end)
end

local args = { ... }
skynet.start(function()
	if args[1] == "reader" then
		skynet.fork(reader, tonumber(args[2]))
		return
	end
	if skynet.getenv "cl_name" then
		require("skynet.cluster").open(id)
		skynet.uniqueservice "sharedatad" -- reachable by the other nodes from now on
	end
	for n = 1, READERS do
		skynet.newservice(SERVICE_NAME, "reader", n)
	end
	say("READY", id)
	skynet.fork(driver)
end)
