-- Shared prototypes: several services run one file (luac_share_peer.lua)
-- compiled once by the code cache. With -Dlua=skiff its string constants
-- belong to another Lua state; every string lookup, metamethod, dump, debug
-- query and coroutine must behave as with private code, also under heavy
-- collection, after codecache.clear() and after peers exit. With -Dlua=system
-- the same checks run against shared bytecode.
local skynet = require "skynet"
local codecache = require "skynet.codecache"
local t = require "luac_t"

local LONG = "a long string constant, well over forty bytes, so never interned"

local function write(path, text)
	local f = assert(io.open(path, "w"))
	f:write(text)
	f:close()
end

local function check_lookups(r, what)
	t.ok(r.source:find("luac_share_peer.lua", 1, true), what .. " source " .. r.source)
	t.ok(r.line > 0, what .. " line")
	t.eq(r.year, 1971, what .. " os.date year") t.eq(r.yday, 2, what .. " os.date yday")
	t.eq(r.time_again, r.time, what .. " os.time reads constant keys")
	t.eq(r.key7, 7, what) t.eq(r.key50, 50, what)
	t.eq(r.key7_after, "seven", what .. " one slot") t.eq(r.count, 50, what .. " no duplicate key")
	t.eq(r.alpha, 1, what) t.eq(r.beta, 20, what) t.eq(r.c_count, 3, what .. " constant table keys")
	t.eq(r.long, 3, what .. " long string key")
	t.eq(r.rawequal, true, what .. " rawequal") t.eq(r.equal, true, what .. " ==") t.eq(r.less, true, what .. " <")
	t.eq(r.index, "anything!", what .. " __index")
	t.eq(r.tostring, "peer object", what .. " __tostring") t.eq(r.format, "peer object", what .. " %s")
	t.ok(r.typeerror:find("PeerType", 1, true), what .. " __name: " .. r.typeerror)
	t.eq(r.global, 5, what .. " global") t.eq(r.require, true, what .. " require")
end

local function check_debug(r, what)
	t.ok(r.source:find("^@.*luac_share_peer%.lua$"), what .. " source " .. r.source)
	t.ok(r.linedefined > 1, what .. " linedefined") t.eq(r.what, "Lua", what)
	t.ok(r.traceback:find("luac_share_peer.lua:%d+: in"), what .. " traceback " .. r.traceback)
	t.ok(r.error:find("luac_share_peer.lua:%d+: boom"), what .. " error " .. r.error)
	t.eq(r.local_name, "argname", what .. " local name") t.eq(r.upvalues, 2, what .. " upvalue names")
	t.eq(r.dump_sum, 5, what .. " dump") t.eq(r.dump_tag, "dumped", what .. " dump constant")
	t.eq(r.dump_stripped, 3, what .. " stripped dump")
	t.eq(r.coroutine, "y1,y2,y3", what .. " coroutine")
end

local function check_libs(r, what)
	t.eq(r.counts, "string=17 table=7 coroutine=8 os=11 utf8=6 debug=17 math=35 io=14 file=5/7", what .. " library sizes (Debian: LUA_COMPAT_5_3)")
	t.eq(r.G, true, what .. " _G") t.eq(r.loaded, true, what .. " package.loaded")
	t.eq(r.meta, true, what .. " string metatable") t.eq(r.arith, true, what .. " string arithmetic")
	t.eq(r.preload, true, what .. " package.preload") t.eq(r.misc, true, what .. " utf8, math, io, os, _VERSION")
	t.eq(r.foreign, true, what .. " no other service's fields")
	t.eq(r.io, true, what .. " io: standard files, io.open, io.lines")
end

local function check_strings(r, what)
	t.eq(r.format, "5-x", what .. " string[made name]") t.eq(r.insert, "ab", what .. " table[made name]")
	t.eq(r.floor, 2, what .. " math[made name]") t.eq(r.rawequal, true, what .. " made names rawequal")
	t.eq(r.pairs, 1, what .. " pairs finds the made name")
	t.eq(r.index, "got key", what .. " made __index") t.eq(r.len, 42, what .. " made __len")
	t.eq(r.load, "yesno7niltrue", what .. " load of source: reserved words")
	t.ok(tostring(r.badload):find("<name> expected near 'end'", 1, true), what .. " reserved word error: " .. tostring(r.badload))
	t.ok(tostring(r.memerr):find("not enough memory", 1, true) or tostring(r.memerr):find("too large", 1, true),
		what .. " memory error message: " .. tostring(r.memerr))
end

t.run("shareproto", function()
	local peers = {}
	for i = 1, 4 do
		peers[i] = skynet.newservice("luac_share_peer")
	end
	local seeded
	for i, p in ipairs(peers) do
		-- each peer marks its own tables; the next one must not see the mark
		local r = skynet.call(p, "lua", "libs", "peer" .. i)
		check_libs(r, "peer " .. i)
		t.eq(r.unseeded, true, "peer " .. i .. " math.random runs")
		seeded = seeded or r.seeded
		t.eq(r.seeded, seeded, "peer " .. i .. " math.randomseed(42) gives the same numbers")
		check_strings(skynet.call(p, "lua", "strings"), "peer " .. i)
		check_lookups(skynet.call(p, "lua", "lookups"), "peer " .. i)
		check_debug(skynet.call(p, "lua", "debuginfo"), "peer " .. i)
	end

	-- keys made in this service (concatenation, another file's constants)
	local msg = { alpha = "a", [LONG] = "l" }
	for i = 1, 5 do
		msg["key" .. i] = i
	end
	local e = skynet.call(peers[1], "lua", "echo", msg)
	t.eq(e.got_alpha, "a") t.eq(e.got_key3, 3) t.eq(e.got_long, "l") t.eq(e.n, 7)
	t.eq(e["al" .. "pha"], "A", "the peer's constant key, read here")

	-- every peer collects in a loop at once, in both collector modes
	local sums, done = {}, 0
	for i, p in ipairs(peers) do
		skynet.fork(function()
			sums[i] = skynet.call(p, "lua", "churn", 30)
			done = done + 1
		end)
	end
	while done < #peers do
		collectgarbage()
		check_lookups(skynet.call(peers[1 + done % #peers], "lua", "lookups"), "during churn")
		skynet.sleep(1)
	end
	for i = 1, #peers do
		t.eq(sums[i], sums[1], "same work in every peer")
	end

	-- peers exit (their states close); the code stays for the others
	for i = 3, 4 do
		skynet.kill(peers[i])
		peers[i] = nil
	end
	collectgarbage()
	check_lookups(skynet.call(peers[1], "lua", "lookups"), "after exits")

	-- clear: new loads compile again; running services keep their code
	codecache.clear()
	peers[3] = skynet.newservice("luac_share_peer")
	check_lookups(skynet.call(peers[3], "lua", "lookups"), "after clear (new)")
	check_lookups(skynet.call(peers[2], "lua", "lookups"), "after clear (old)")
	t.eq(skynet.call(peers[2], "lua", "churn", 5), skynet.call(peers[3], "lua", "churn", 5), "old and new code")

	-- a big file: with shared prototypes a service's copy is a closure
	local big = { "local t = {}" }
	for i = 1, 2000 do
		big[#big + 1] = string.format("t[%d] = function(x) return x .. 'constant %d' end", i, i)
	end
	big[#big + 1] = "return #t"
	local path = skynet.getenv("luac_tmp") .. "/share_big.lua"
	write(path, table.concat(big, "\n"))
	local cost = skynet.call(peers[1], "lua", "loadcost", path)
	t.eq(cost.same, true, "cached and source loads run alike")
	t.eq(cost.shared, codecache.shared, "the peer's Lua is ours")
	t.ok(cost.source > 100 * 1024, "a private copy of the big file: " .. cost.source)
	if codecache.shared then
		t.ok(cost.cached < cost.source / 20, string.format("shared: %d bytes vs %d", cost.cached, cost.source))
	else
		t.ok(cost.cached > cost.source / 2, string.format("bytecode: %d bytes vs %d", cost.cached, cost.source))
	end
	skynet.error("LUAC_SHARE seeded 42: " .. seeded)
	skynet.error("LUAC_SHARE shared=" .. tostring(codecache.shared) .. " cached=" .. cost.cached .. " source=" .. cost.source)
	for _, p in pairs(peers) do
		skynet.kill(p)
	end
end)
