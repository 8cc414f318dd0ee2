-- Shared data: skynet.sharetable, skynet.sharedata, skynet.datasheet and
-- skynet.stm, read from several services, with updates.  (The same steps as
-- skynet's own test scripts for these modules and its sharedata example,
-- checked by assertions.)
local skynet = require "skynet"
local sharetable = require "skynet.sharetable"
local sharedata = require "skynet.sharedata"
local builder = require "skynet.datasheet.builder"
local datasheet = require "skynet.datasheet"
local stm = require "skynet.stm"
local sharebox = require "skynet.sharebox"
local T = require "testlib"

local function collect(t)
	local r = {}
	for k, v in pairs(t) do
		r[k] = v
	end
	return r
end

T.main("test_sharedata", function()
	-- sharetable: tables, nested tables, sources with arguments
	sharetable.loadtable("test", { x = 1, y = { "hello world" }, ["hello world"] = true })
	local t = sharetable.query "test"
	T.eq(t.x, 1, "x")
	T.eq(t.y[1], "hello world", "nested")
	T.eq(t["hello world"], true, "string key")
	T.eq(t.y, t.y, "the same proxy for the same table")
	local keys = collect(t)
	T.eq(keys.x, 1) T.eq(keys["hello world"], true) T.eq(type(keys.y), "table")
	T.raises("read-only", function() t.z = 2 end)

	sharetable.loadstring("test", "return { ... }", 1, 2, 3)
	local t2 = sharetable.query "test"
	T.same(collect(t2), { 1, 2, 3 }, "loadstring with arguments")
	T.eq(#t2, 3, "length")
	T.eq(t.x, 1, "a table queried before the reload keeps its data")
	sharetable.update "test"
	T.eq(t.x, nil, "after update the old table shows the new data")
	T.eq(t[1], 1, "new data in the old table")

	-- update: a held table follows its path (hash and array keys, two updates
	-- in a row); a table whose path is gone raises; a table not read before
	-- the update is found in the new data
	sharetable.loadtable("deep", { a = { b = { "skip", { c = 1 } } }, arr = { { x = 1 }, { x = 2 } } })
	local deep = sharetable.query "deep"
	local c, second, first = deep.a.b[2], deep.arr[2], deep.arr[1]
	T.eq(c.c, 1) T.eq(second.x, 2) T.eq(first.x, 1)
	sharetable.loadtable("deep", { a = { b = { "skip", { c = 2 } } }, arr = { { x = 10 } } })
	sharetable.update "deep"
	T.eq(c.c, 2, "a nested table follows its path across an update")
	T.eq(first.x, 10, "an array element follows its index")
	T.raises("removed by an update", function() return second.x end)
	sharetable.loadtable("deep", { a = { b = { "skip", { c = 3, d = { 4 } } } }, arr = {} })
	sharetable.update "deep"
	T.eq(c.c, 3, "and across a second update") T.eq(c.d[1], 4)
	T.eq(deep.a.b[2], c, "the same proxy by its path")
	T.raises("removed by an update", function() return first.x end)

	sharetable.loadtable("test_one", { message = "hello one", x = 1, 1 })
	sharetable.loadtable("test_two", { message = "hello two", x = 2, 2 })
	sharetable.loadtable("test_three", { message = "hello three", x = 3, 3 })
	local list = sharetable.queryall { "test_one", "test_two" }
	T.eq(list.test_one.message, "hello one") T.eq(list.test_two[1], 2)
	T.eq(list.test_three, nil, "only the names asked for")
	local all = sharetable.queryall()
	for _, n in ipairs { "test", "test_one", "test_two", "test_three" } do
		T.ok(all[n], "queryall() has " .. n)
	end

	local fname = os.tmpname()
	local f = assert(io.open(fname, "w"))
	f:write("local n = ... return { n = n, list = { 'a', 'b' } }\n")
	f:close()
	sharetable.loadfile(fname, 42)
	local ft = sharetable.query(fname)
	T.eq(ft.n, 42, "loadfile with an argument") T.eq(ft.list[2], "b")
	os.remove(fname)
	T.raises("Unsupport type function", sharetable.loadtable, "bad", { f = print })
	T.raises("unsupported value type", sharebox.new, { f = print })
	local cyc = {} cyc.self = cyc
	T.raises("nested deeper", sharebox.new, cyc)
	T.raises("must be a table", sharetable.loadstring, "bad", "return 1")

	-- another service reads the same data
	local child = skynet.newservice "t_shared_reader"
	T.eq(skynet.call(child, "lua", "sharetable", "test_one", "message"), "hello one", "reader in another service")

	-- sharedata: updates reach readers by themselves; removed tables raise
	sharedata.new("foobar", { a = 1, b = { "hello", "world" } })
	local obj = sharedata.query "foobar"
	local b = obj.b
	T.eq(obj.a, 1) T.eq(b[1], "hello") T.eq(#b, 2)
	local copy = skynet.unpack(skynet.packstring(obj))
	T.eq(copy.a, 1, "a proxy packs like a table") T.eq(copy.b[2], "world")
	T.eq(skynet.call(child, "lua", "sharedata", "foobar", "a"), 1)
	sharedata.update("foobar", { a = 2 })
	T.eventually(function() return obj.a == 2 end, "the update reaches this reader")
	T.eventually(function() return skynet.call(child, "lua", "sharedata", "foobar", "a") == 2 end,
		"and the other service")
	T.raises("removed by an update", function() return b[1] end)
	sharedata.update("foobar", { a = 3, b = { "change" } })
	T.eventually(function() return obj.a == 3 end, "second update")
	T.eq(obj.b[1], "change", "new nested table")
	T.same(sharedata.deepcopy("foobar"), { a = 3, b = { "change" } }, "deepcopy")
	T.same(sharedata.deepcopy("foobar", "b"), { "change" }, "deepcopy of a part")
	sharedata.delete "foobar"
	T.eq(obj.a, 3, "a deleted name: readers keep the last version")
	T.raises("no data named", sharedata.query, "nothing")

	-- datasheet: a table held across updates shows each new version
	builder.new("sheet", { a = 1, b = 2, c = { 3 } })
	local d = datasheet.query "sheet"
	local c = d.c
	T.eq(skynet.call(child, "lua", "datasheet", "sheet", "b"), 2, "datasheet in another service")
	builder.update("sheet", { b = 4, c = { 5 } })
	T.eventually(function() return d.b == 4 end, "datasheet update")
	T.eq(d.a, nil, "a key the update dropped")
	T.eq(c[1], 5, "a held subtable shows the new data")
	builder.update("sheet", { a = 6, c = 7, d = 8 })
	T.eventually(function() return d.a == 6 end, "third version")
	T.eq(d.c, 7) T.eq(d.d, 8)
	T.eventually(function() return skynet.call(child, "lua", "datasheet", "sheet", "d") == 8 end,
		"the other service follows too")

	-- reads are cached in the proxy: the second read is a plain field
	sharetable.loadtable("cache", { k = "v" })
	local ct = sharetable.query "cache"
	T.eq(rawget(ct, "k"), nil, "nothing copied before a read")
	T.eq(ct.k, "v")
	T.eq(rawget(ct, "k"), "v", "kept after the first read")
	local bytes, tables = sharebox.stat(sharebox.new { a = { 1, 2 }, b = "x" })
	T.ok(bytes > 0 and tables == 2, "stat")

	-- stm: one writer, a reader in another service
	local w = stm.new(skynet.pack(1, 2, 3))
	T.same({ skynet.call(child, "lua", "stm", stm.copy(w)) }, { true, 1, 2, 3 }, "stm first version")
	T.same({ skynet.call(child, "lua", "stmread") }, { false }, "stm: nothing new to read")
	for i = 1, 3 do
		w(skynet.pack("hello world", i))
		T.same({ skynet.call(child, "lua", "stmread") }, { true, "hello world", i }, "stm version " .. i)
		T.same({ skynet.call(child, "lua", "stmread") }, { false }, "stm version " .. i .. " read once")
	end
	T.raises("bad argument", stm.newcopy, "x")
end)
