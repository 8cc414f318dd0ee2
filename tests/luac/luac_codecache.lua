-- skynet.codecache: loadfile, require, mode and clear.
local skynet = require "skynet"
local cache = require "skynet.codecache"
local t = require "luac_t"

local function write(path, text)
	local f = assert(io.open(path, "w"))
	f:write(text)
	f:close()
end

t.run("codecache", function()
	local dir = skynet.getenv "luac_tmp"
	t.eq(skynet.cache, cache, "skynet.cache")
	local p1 = dir .. "/cc_probe.lua"
	write(p1, "return 1, ...")
	local f = assert(loadfile(p1))
	t.eq(f(), 1)
	t.eq(select(2, f("arg")), "arg", "varargs")
	write(p1, "return 2, ...")
	t.eq(loadfile(p1)(), 1, "served from the cache")
	t.eq(cache.loadfile(p1)(), 1, "module loadfile is the same")
	t.eq(cache.mode(), "ON")
	t.eq(cache.mode("OFF"), "ON")
	t.eq(loadfile(p1)(), 2, "OFF reads the file")
	cache.mode("ON")
	t.eq(loadfile(p1)(), 1, "ON again: the cached bytes")
	cache.clear()
	t.eq(loadfile(p1)(), 2, "clear forgets")
	t.raises("invalid option", cache.mode, "SOMETIMES")

	-- EXIST uses entries but adds none
	cache.mode("EXIST")
	local p2 = dir .. "/cc_probe2.lua"
	write(p2, "return 'a'")
	t.eq(loadfile(p2)(), "a")
	write(p2, "return 'b'")
	t.eq(loadfile(p2)(), "b", "EXIST did not add")
	t.eq(loadfile(p1)(), 2, "EXIST used the entry")
	cache.mode("ON")

	-- env and mode arguments, and errors, as the base loadfile
	local p3 = dir .. "/cc_env.lua"
	write(p3, "x = 42")
	local env1, env2 = {}, {}
	loadfile(p3, "t", env1)()
	loadfile(p3, "bt", env2)() -- cached now
	t.eq(env1.x, 42) t.eq(env2.x, 42)
	t.eq(rawget(_G, "x"), nil, "globals untouched")
	local nf, msg = loadfile(dir .. "/cc_missing.lua")
	t.eq(nf, nil) t.ok(msg:find("cannot open"), msg)
	cache.mode("OFF") -- Lua's own words for the same miss
	t.eq(select(2, loadfile(dir .. "/cc_missing.lua")), msg, "a missing file is worded as by luaL_loadfilex")
	cache.mode("ON")
	write(dir .. "/cc_missing.lua", "return 'appeared'")
	t.eq(loadfile(dir .. "/cc_missing.lua")(), "appeared", "a file that appears later loads")
	write(dir .. "/cc_syntax.lua", "return +")
	local sf, smsg = loadfile(dir .. "/cc_syntax.lua")
	t.eq(sf, nil) t.ok(smsg:find("cc_syntax.lua:1:"), smsg)
	local bf, bmsg = loadfile(p1, "b")
	t.eq(bf, nil) t.ok(bmsg:find("attempt to load a text chunk"), bmsg)

	-- debug info survives the bytecode: tracebacks keep file and line
	local p4 = dir .. "/cc_err.lua"
	write(p4, "\n\nerror('line3')")
	for _ = 1, 2 do
		local ok, e = pcall(loadfile(p4))
		t.eq(ok, false) t.ok(e:find("cc_err.lua:3: line3", 1, true), e)
	end

	-- require goes through the cache too
	package.path = dir .. "/?.lua;" .. package.path
	write(dir .. "/cc_mod.lua", "return { v = 1 }")
	t.eq(require("cc_mod").v, 1)
	package.loaded.cc_mod = nil
	write(dir .. "/cc_mod.lua", "return { v = 2 }")
	t.eq(require("cc_mod").v, 1, "require served from the cache")
	t.raises("module 'cc_no_such_mod' not found", require, "cc_no_such_mod")
	write(dir .. "/cc_badmod.lua", "return +")
	t.raises("error loading module 'cc_badmod' from file", require, "cc_badmod")
end)
