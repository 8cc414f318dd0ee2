-- luac_share_peer — the service luac_share runs several times from this one
-- file. With shared prototypes (-Dlua=skiff) every copy runs the same compiled
-- code, whose string constants were made by another Lua state (the code
-- cache's loader), so each lookup below mixes strings of two states.
local skynet = require "skynet"
local codecache = require "skynet.codecache"

local LONG = "a long string constant, well over forty bytes, so never interned"

local function count(t)
	local n = 0
	for _ in pairs(t) do
		n = n + 1
	end
	return n
end

local cmd = {}

-- Strings made here at run time (C code, concatenation) against constants.
function cmd.lookups()
	local r = {}
	local info = debug.getinfo(1, "Sl") -- ldblib sets the fields with lua_setfield
	r.source, r.line = info.source, info.currentline
	local d = os.date("!*t", 86400 * 366) -- lua_setfield too
	r.year, r.yday = d.year, d.yday
	-- the other way: os.time reads a table of constant keys with lua_getfield
	r.time = os.time({ year = 2001, month = 2, day = 3, hour = 12 })
	r.time_again = os.time(os.date("*t", r.time))
	local t = {}
	for i = 1, 50 do
		t["key" .. i] = i
	end
	r.key7, r.key50 = t.key7, t.key50
	t.key7 = "seven" -- the same slot: a constant finds the concatenated key
	r.key7_after, r.count = t["key" .. 7], count(t)
	local c = { alpha = 1, beta = 2, [LONG] = 3 }
	r.alpha = c["al" .. "pha"]
	c["be" .. "ta"] = 20
	r.beta, r.c_count = c.beta, count(c)
	r.long = c["a long string constant, " .. "well over forty bytes, so never interned"]
	r.rawequal = rawequal("alpha", ("ALPHA"):lower())
	r.equal = ("alpha" == string.char(97, 108, 112, 104, 97))
	r.less = "alpha" < ("BETA"):lower()
	-- metamethods keyed by constants, found by the VM's and C's own names
	local mt = {
		__index = function(_, k)
			return k .. "!"
		end,
		__tostring = function()
			return "peer object"
		end,
		__name = "PeerType",
	}
	local obj = setmetatable({}, mt)
	r.index = obj.anything
	r.tostring = tostring(obj) -- luaL_tolstring looks up "__tostring" from C
	r.format = string.format("%s", obj)
	r.typeerror = select(2, pcall(string.rep, setmetatable({}, { __name = "PeerType" })))
	-- a global set here and read by a constant, and one set by a constant
	_G["peer_" .. "global"] = 5
	r.global = peer_global
	r.require = require("skynet") == skynet
	return r
end

-- A table made by the caller (keys unpacked by C here) read by constants,
-- and one made of constants for the caller to read.
function cmd.echo(msg)
	return { got_alpha = msg.alpha, got_key3 = msg.key3, got_long = msg[LONG], n = count(msg), alpha = "A" }
end

function cmd.debuginfo()
	local r = {}
	local info = debug.getinfo(cmd.lookups, "S")
	r.source, r.linedefined, r.what = info.source, info.linedefined, info.what
	r.traceback = debug.traceback("tb")
	r.error = select(2, pcall(function()
		error("boom")
	end))
	local first_local
	local function probe(argname)
		first_local = debug.getlocal(1, 1)
		return argname
	end
	probe(1)
	r.local_name = first_local
	local up = 0
	for i = 1, 10 do
		local name = debug.getupvalue(cmd.lookups, i)
		if name == "count" or name == "LONG" then
			up = up + 1
		end
	end
	r.upvalues = up
	-- string.dump of shared code loads back as a private copy
	local dumped = load(string.dump(function(a, b)
		return { sum = a + b, tag = "dumped" }
	end))
	local v = dumped(2, 3)
	r.dump_sum, r.dump_tag = v.sum, v["t" .. "ag"]
	r.dump_stripped = load(string.dump(count, true))({ 1, 2, 3 })
	-- coroutines resume shared code
	local got = {}
	for y in coroutine.wrap(function()
		for i = 1, 3 do
			coroutine.yield("y" .. i)
		end
	end) do
		got[#got + 1] = y
	end
	r.coroutine = table.concat(got, ",")
	return r
end

-- Names that every state shares (the process's string table: library
-- fields, metamethod names, reserved words), made here at run time.
function cmd.strings()
	local r = {}
	local fmt, ins, flo = "for" .. "mat", "ins" .. "ert", "fl" .. "oor"
	r.format = string[fmt]("%d-%s", 5, "x")
	local list = {}
	table[ins](list, "a")
	table[ins](list, "b")
	r.insert = table.concat(list)
	r.floor = math[flo](2.5)
	r.rawequal = rawequal(fmt, "format") and rawequal(ins, "insert")
	local seen = 0
	for k in pairs(string) do
		if k == fmt then
			seen = seen + 1
		end
	end
	r.pairs = seen
	local mt = { ["__ind" .. "ex"] = function(_, k)
		return "got " .. k
	end, ["__" .. "len"] = function()
		return 42
	end }
	local o = setmetatable({}, mt)
	r.index, r.len = o.key, #o
	-- the lexer knows reserved words by a mark on their shared strings
	local chunk = "local function f(a) if a then return 'yes' else return 'no' end end "
		.. "local n = 0 for i = 1, 3 do n = n + i end while false do end "
		.. "repeat n = n + 1 until true return f(true) .. f(nil) .. n .. tostring(nil) .. tostring(true)"
	r.load = load(chunk)()
	r.badload = select(2, load("local end = 1"))
	r.memerr = select(2, pcall(string.rep, "x", 1 << 62))
	return r
end

-- The standard libraries as a service gets them (with Skiff's Lua most are
-- copies of per-process templates): complete, wired together, and its own.
function cmd.libs(mark)
	local r = {}
	collectgarbage()
	r.counts = string.format("string=%d table=%d coroutine=%d os=%d utf8=%d debug=%d math=%d io=%d file=%d/%d",
		count(string), count(table), count(coroutine), count(os), count(utf8), count(debug), count(math),
		count(io), count(getmetatable(io.stdin)), count(getmetatable(io.stdin).__index))
	r.G = _G._G == _G and package.loaded._G == _G and type(require) == "function"
	for k, v in pairs(_G) do -- no template placeholder left: stock _G holds no false
		if v == false then
			r.G = "false left at " .. tostring(k)
		end
	end
	r.loaded = package.loaded.string == string and package.loaded.table == table
		and package.loaded.utf8 == utf8 and package.loaded.debug == debug and package.loaded.os == os
		and require "coroutine" == coroutine
	r.meta = getmetatable("").__index == string and ("abc"):upper() == "ABC" and #("x"):rep(3) == 3
	r.arith = "10" + 1 == 11 and "3" * "4" == 12 and -"2" == -2
	r.preload = type(package.preload["skynet.core"]) == "function" and type(package.preload["md5"]) == "function"
	r.misc = utf8.charpattern == "[\0-\x7F\xC2-\xFD][\x80-\xBF]*" and math.type(math.random(10)) == "integer"
		and type(io.write) == "function" and os.time() > 0 and _VERSION == "Lua 5.4"
	-- io: this service's standard files, wired as liolib wires them
	local cok, cerr = io.stdout:close()
	r.io = io.type(io.stdin) == "file" and io.input() == io.stdin and io.output() == io.stdout
		and getmetatable(io.stderr) == getmetatable(io.stdin) and cok == nil
		and cerr == "cannot close standard file" and tostring(io.stderr):find("^file %(") ~= nil
	local path = os.tmpname()
	local f = assert(io.open(path, "w"))
	r.io = r.io and getmetatable(f) == getmetatable(io.stdout) and f:write("one\ntwo\n") == f
	f:close()
	local lines = {}
	for line in io.lines(path) do
		lines[#lines + 1] = line
	end
	os.remove(path)
	r.io = r.io and table.concat(lines, ",") == "one,two" and io.type(f) == "closed file"
	-- each service's generator: seeded alike, alike everywhere
	local a, b = math.random(1 << 40), math.random(1 << 40)
	r.unseeded = a ~= b
	math.randomseed(42)
	r.seeded = string.format("%d %d %.17g", math.random(1000000), math.random(-5, 5), math.random())
	-- what another service set in its tables is not in ours
	r.foreign = string.skiff_mark == nil and table.skiff_mark == nil and skiff_mark == nil
		and getmetatable("").skiff_mark == nil and package.preload.skiff_mark == nil
		and io.skiff_mark == nil and getmetatable(io.stdin).skiff_mark == nil
	if mark then
		string.skiff_mark, table.skiff_mark, skiff_mark = mark, mark, mark
		getmetatable("").skiff_mark, package.preload.skiff_mark = mark, mark
		io.skiff_mark, getmetatable(io.stdin).skiff_mark = mark, mark
	end
	return r
end

-- Heavy collection while other services run the same code.
function cmd.churn(rounds)
	local sum = 0
	for round = 1, rounds do
		local t = {}
		for i = 1, 200 do
			t["k" .. i] = { alpha = i, [LONG] = i }
		end
		for i = 1, 200, 7 do
			sum = sum + t["k" .. i].alpha + t["k" .. i][LONG]
		end
		if round % 3 == 0 then
			collectgarbage("generational")
		elseif round % 3 == 1 then
			collectgarbage("incremental")
		end
		collectgarbage()
		skynet.yield()
	end
	return sum
end

-- Lua memory this service pays for one more load of a big file, through the
-- cache (shared: a closure) and from source (its own copy).
function cmd.loadcost(path)
	collectgarbage()
	local m0 = collectgarbage("count")
	local f1 = assert(loadfile(path))
	collectgarbage()
	local m1 = collectgarbage("count")
	local old = codecache.mode("OFF")
	local f2 = assert(loadfile(path))
	codecache.mode(old)
	collectgarbage()
	local m2 = collectgarbage("count")
	return { cached = (m1 - m0) * 1024, source = (m2 - m1) * 1024, same = f1() == f2(), shared = codecache.shared }
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, name, ...)
		skynet.retpack(cmd[name](...))
	end)
end)
