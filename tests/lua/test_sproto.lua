-- sproto: the wire vectors of the sproto description, round trips of every
-- field type, errors for bad tables and hostile bytes, sprotoloader slots
-- shared between services, and the RPC host/attach flow between two services
-- (t_sproto_peer.lua).
local skynet = require "skynet"
local sproto = require "sproto"
local core = require "sproto.core"
local parser = require "sprotoparser"
local loader = require "sprotoloader"
local T = require "testlib"

local function unhex(s)
	s = s:gsub("%s", "")
	return (s:gsub("..", function(h) return string.char(tonumber(h, 16)) end))
end

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- The example schema and messages of the sproto description's "Wire
-- protocol" section, with the bytes it gives for each.
local wire = sproto.parse [[
.Person {
	name 0 : string
	age 1 : integer
	marital 2 : boolean
	children 3 : *Person
}
.Data {
	numbers 0 : *integer
	bools 1 : *boolean
	number 2 : integer
	bignumber 3 : integer
	double 4 : double
	doubles 5 : *double
	fpn 6 : integer(2)
}
]]

local vectors = {
	{ "Person", { name = "Alice", age = 13, marital = false },
	  "0300 0000 1c00 0200 05000000 416c696365" },
	{ "Person", { name = "Bob", age = 40, children = {
		{ name = "Alice", age = 13 }, { name = "Carol", age = 5 } } },
	  "0400 0000 5200 0100 0000 03000000 426f62 26000000" ..
	  "0f000000 0200 0000 1c00 05000000 416c696365" ..
	  "0f000000 0200 0000 0c00 05000000 4361726f6c" },
	{ "Data", { numbers = { 1, 2, 3, 4, 5 } },
	  "0100 0000 15000000 04 01000000 02000000 03000000 04000000 05000000" },
	{ "Data", { numbers = { (1 << 32) + 1, (1 << 32) + 2, (1 << 32) + 3 } },
	  "0100 0000 19000000 08 0100000001000000 0200000001000000 0300000001000000" },
	{ "Data", { bools = { false, true, false } },
	  "0200 0100 0000 03000000 00 01 00" },
	{ "Data", { number = 100000, bignumber = -10000000000 },
	  "0300 0300 0000 0000 04000000 a0860100 08000000 001cf4abfdffffff" },
	{ "Data", { double = 0.01171875, doubles = { 0.01171875, 23, 4 } },
	  "0300 0700 0000 0000 08000000 000000000000883f" ..
	  "19000000 08 000000000000883f 0000000000003740 0000000000001040" },
	{ "Data", { fpn = 1.82 }, "0200 0b00 6e01" },
}

local function check_vectors()
	for i, v in ipairs(vectors) do
		local bin = wire:encode(v[1], v[2])
		T.eq(hex(bin), hex(unhex(v[3])), "wire example " .. i .. " encoding")
		local back, used = wire:decode(v[1], bin)
		T.eq(used, #bin, "wire example " .. i .. " bytes used")
		T.same(back, v[2], "wire example " .. i .. " decoded")
	end
	-- 0-packing examples
	local unpacked = unhex "08 00 00 00 03 00 02 00 19 00 00 00 aa 01 00 00"
	T.eq(hex(sproto.pack(unpacked)), "51080302" .. "3119aa01", "pack example 1")
	T.eq(sproto.unpack(sproto.pack(unpacked)), unpacked, "unpack example 1")
	local run = string.rep("\x8a", 30)
	T.eq(hex(sproto.pack(run)), "ff03" .. string.rep("8a", 30) .. "0000", "pack example 2")
	T.eq(sproto.unpack(sproto.pack(run)), run .. "\0\0", "unpack example 2 (padded to 8)")
end

local full = sproto.parse [[
.Item {
	id 0 : integer
	name 1 : string
	count 2 : integer
}
.Pair {
	k 0 : string
	v 1 : integer
}
.All {
	i 0 : integer
	b 1 : boolean
	s 2 : string
	bin 3 : binary
	d 4 : double
	money 5 : integer(2)
	item 6 : Item
	ints 7 : *integer
	bools 8 : *boolean
	strs 9 : *string
	doubles 10 : *double
	items 11 : *Item
	byid 12 : *Item(id)
	byname 13 : *Item(name)
	dict 14 : *Pair()
	prices 15 : *integer(3)
	.Nested {
		deep 0 : All
		note 1 : string
	}
	nested 20 : Nested
	far 1000 : integer
}
.package {
	type 0 : integer
	session 1 : integer
	ud 2 : integer
}
]]

local function roundtrip(name, msg, what)
	local bin = full:encode(name, msg)
	local back, used = full:decode(name, bin)
	T.eq(used, #bin, what .. ": bytes used")
	T.same(back, msg, what)
	T.same(full:pdecode(name, full:pencode(name, msg)), msg, what .. " (packed)")
	return bin
end

local function check_roundtrips()
	local ints = { 0, 1, 0x7ffe, 0x7fff, -1, 2147483647, -2147483648, 2147483648,
		-2147483649, math.maxinteger, math.mininteger }
	for _, v in ipairs(ints) do
		roundtrip("All", { i = v }, "integer " .. v)
	end
	T.eq(#full:encode("All", { i = 0x7ffe }), 4, "0x7ffe is inline")
	T.eq(#full:encode("All", { i = 0x7fff }), 12, "0x7fff goes to the data part")
	T.eq(#full:encode("All", { i = 1 << 31 }), 16, "2^31 needs 64 bits")
	roundtrip("All", { b = true }, "boolean true")
	roundtrip("All", { b = false }, "boolean false")
	roundtrip("All", { s = "" }, "empty string")
	roundtrip("All", { s = "h\0llo\255" }, "string with NUL")
	local blob = {}
	for i = 0, 255 do blob[#blob + 1] = string.char(i) end
	roundtrip("All", { bin = table.concat(blob) }, "binary")
	for _, d in ipairs { 0.0, -0.5, 1e308, -1e-308, math.huge, -math.huge, 3.141592653589793 } do
		roundtrip("All", { d = d }, "double " .. d)
	end
	local nan = full:decode("All", full:encode("All", { d = 0 / 0 })).d
	T.ok(nan ~= nan, "NaN survives")
	roundtrip("All", { money = 12.34 }, "decimal")
	roundtrip("All", { money = -0.07 }, "negative decimal")
	T.eq(full:decode("All", full:encode("All", { money = 1.005 })).money, 1.0, "decimal rounds to 2 places")
	T.eq(math.type(full:decode("All", full:encode("All", { money = 3 })).money), "float",
		"a decimal decodes to a float")
	roundtrip("All", { item = { id = 1, name = "sword", count = 2 } }, "nested struct")
	roundtrip("All", { item = {} }, "empty nested struct")
	roundtrip("All", { ints = { 1, -1, 70000 } }, "integer array (32 bit)")
	roundtrip("All", { ints = { 1, 1 << 40, -3 } }, "integer array (64 bit)")
	roundtrip("All", { bools = { true, false, true, true } }, "boolean array")
	roundtrip("All", { strs = { "a", "", "ccc" } }, "string array")
	roundtrip("All", { doubles = { 0.5, -2.25, 1e100 } }, "double array")
	roundtrip("All", { prices = { 1.5, 0.001, -7 } }, "decimal array")
	roundtrip("All", { items = { { id = 1 }, { id = 2, name = "x" }, {} } }, "struct array")
	roundtrip("All", { ints = {}, bools = {}, strs = {}, items = {}, byid = {}, dict = {} }, "empty arrays")
	roundtrip("All", { byid = { [7] = { id = 7, name = "a" }, [9] = { id = 9 } } }, "array keyed by integer")
	roundtrip("All", { byname = { a = { name = "a", id = 1 }, b = { name = "b" } } }, "array keyed by string")
	roundtrip("All", { dict = { x = 1, y = -2, z = 1 << 40 } }, "two-field map")
	roundtrip("All", { far = 5, i = 1 }, "tag gap")
	roundtrip("All", { nested = { note = "n", deep = { nested = { deep = { s = "bottom" } } } } }, "recursive types")
	roundtrip("All", {
		i = 1, b = true, s = "s", bin = "\0", d = 0.25, money = 9.99,
		item = { id = 3 }, ints = { 3 }, bools = { false }, strs = { "q" }, doubles = { 2.0 },
		items = { { count = 4 } }, byid = { [1] = { id = 1 } }, byname = { k = { name = "k" } },
		dict = { one = 1 }, prices = { 0.5 }, nested = { note = "x" }, far = 1 << 50,
	}, "every field at once")
	-- keyed arrays and maps honour __pairs (proxy tables), plain arrays __index
	local backing = { byid = { [2] = { id = 2, name = "p" } }, dict = { q = 5 }, ints = { 7, 8 } }
	local function proxy(t)
		return setmetatable({}, { __pairs = function() return next, t, nil end, __index = t })
	end
	local viaproxy = full:decode("All", full:encode("All",
		{ byid = proxy(backing.byid), dict = proxy(backing.dict), ints = proxy(backing.ints) }))
	T.same(viaproxy, backing, "proxy tables")
	-- a whole number given as a float or a numeric string is an integer
	T.eq(full:decode("All", full:encode("All", { i = 3.0 })).i, 3, "3.0 encodes as 3")
	-- decode fills a table it is given, and returns the bytes it used
	local into = { keep = 1 }
	local bin = full:encode("Item", { id = 5 })
	local got, used = core.decode(full.__tcache.Item or core.querytype(full.__cobj, "Item"), bin .. "trailing", into)
	T.eq(got, into, "decode fills the given table")
	T.eq(got.id, 5, "decoded into the table")
	T.eq(got.keep, 1, "other keys kept")
	T.eq(used, #bin, "bytes used stop before trailing bytes")
	-- defaults
	local def = full:default("All")
	T.eq(def.i, 0, "default integer")
	T.eq(def.money, 0.0, "default decimal")
	T.eq(def.b, false, "default boolean")
	T.eq(def.s, "", "default string")
	T.eq(def.item.__type, "Item", "default struct")
	T.eq(def.items.__array, "Item", "default struct array")
	T.eq(def.ints.__array, 0, "default integer array")
	T.ok(full:exist_type("All") and not full:exist_type("Nope"), "exist_type")
end

local function check_versions()
	-- a field added in a newer schema is skipped by an older one
	local v1 = sproto.parse ".M { a 0 : integer  c 2 : string }"
	local v2 = sproto.parse ".M { a 0 : integer  b 1 : *string  c 2 : string  d 9 : double }"
	local bin = v2:encode("M", { a = 1, b = { "x" }, c = "kept", d = 1.5 })
	T.same(v1:decode("M", bin), { a = 1, c = "kept" }, "unknown fields skipped")
	T.same(v2:decode("M", v1:encode("M", { a = 2 })), { a = 2 }, "missing fields absent")
end

local function check_encode_errors()
	T.raises("All.i is not an integer", full.encode, full, "All", { i = "x" })
	T.raises("All.i is not an integer", full.encode, full, "All", { i = 1.5 })
	T.raises("All.b is not a boolean", full.encode, full, "All", { b = 1 })
	T.raises("All.s is not a string", full.encode, full, "All", { s = 12 })
	T.raises("All.d is not a number", full.encode, full, "All", { d = "z" })
	T.raises("All.item is not a table", full.encode, full, "All", { item = 1 })
	T.raises("All.ints is not a table", full.encode, full, "All", { ints = 1 })
	T.raises("All.ints is not an integer", full.encode, full, "All", { ints = { 1, "x" } })
	T.raises("type not found", full.encode, full, "Nope", {})
	local loop = {}
	loop.nested = { deep = loop }
	T.raises("too deep", full.encode, full, "All", loop)
	T.raises("object is too large", full.encode, full, "All", { s = string.rep("x", 17 * 1024 * 1024) })
end

-- Deterministic pseudo-random bytes, so a failure replays.
local seed = 12345
local function rnd(n)
	seed = (seed * 1103515245 + 12345) & 0x7fffffff
	return seed % n
end

local function mutate(s)
	local b = { s:byte(1, -1) }
	for _ = 1, 1 + rnd(4) do
		if #b == 0 then break end
		local op = rnd(3)
		local at = 1 + rnd(#b)
		if op == 0 then
			b[at] = rnd(256)
		elseif op == 1 then
			table.remove(b, at)
		else
			table.insert(b, at, rnd(256))
		end
	end
	return string.char(table.unpack(b))
end

local function check_hostile()
	-- every prefix of a valid message: an error or a partial decode, never a crash
	local msg = full:encode("All", {
		i = 70000, s = "str", item = { id = 1, name = "n" }, ints = { 1, 2 }, items = { { id = 3 } },
		byid = { [4] = { id = 4 } }, dict = { k = 1 }, doubles = { 1.5 }, nested = { deep = { b = true } },
	})
	for n = 0, #msg - 1 do
		pcall(full.decode, full, "All", msg:sub(1, n))
	end
	T.raises("decode error", full.decode, full, "All", "")
	T.raises("decode error", full.decode, full, "All", "\1\0")
	T.raises("decode error", full.decode, full, "All", "\1\0\0\0\255\255\255\255")
	-- a string where an inline value must be, and the reverse
	T.raises("inline value", full.decode, full, "All", "\3\0\1\0\1\0\4\0")
	T.raises("boolean in a chunk", full.decode, full, "All", "\2\0\1\0\0\0\1\0\0\0\1")
	T.raises("integer of bad size", full.decode, full, "All", "\1\0\0\0\3\0\0\0abc")
	T.raises("double of bad size", full.decode, full, "All", "\2\0\7\0\0\0\4\0\0\0abcd")
	T.raises("struct size mismatch", full.decode, full, "All",
		"\2\0\11\0\0\0\5\0\0\0\0\0xyz")
	-- a keyed array whose element lacks its key
	T.raises("main index", full.decode, full, "All",
		full:encode("All", { items = { { name = "x" } } }):gsub("^(..)(..)", "%1\23\0"))
	-- 200 levels of nesting
	-- (All.nested is tag 20: a skip entry 39 then a chunk; Nested.deep is tag 0)
	local deep = full:encode("All", { s = "x" })
	for _ = 1, 200 do
		local nested = "\1\0\0\0" .. string.pack("<s4", deep)
		deep = "\2\0\39\0\0\0" .. string.pack("<s4", nested)
	end
	T.raises("nested too deep", full.decode, full, "All", deep)
	-- random mutations of valid messages, packed and not
	local packed = full:pencode("All", { s = "xyz", items = { { id = 1 } }, dict = { a = 1 }, d = 2.5 })
	local errors = 0
	for _ = 1, 3000 do
		if not pcall(full.decode, full, "All", mutate(msg)) then errors = errors + 1 end
		if not pcall(full.pdecode, full, "All", mutate(packed)) then errors = errors + 1 end
		local junk = {}
		for k = 1, rnd(40) do junk[k] = string.char(rnd(256)) end
		pcall(full.decode, full, "All", table.concat(junk))
		pcall(sproto.unpack, table.concat(junk))
	end
	T.ok(errors > 0, "mutations were caught as errors")
	-- bad packed streams
	T.raises("Invalid unpack stream", sproto.unpack, "\255")
	T.raises("Invalid unpack stream", sproto.unpack, "\255\1" .. string.rep("a", 15))
	T.raises("Invalid unpack stream", sproto.unpack, "\3a")
	T.eq(sproto.unpack(""), "", "empty stream")
	-- bad schemas
	local cobj, err = core.newproto("garbage!")
	T.eq(cobj, nil, "garbage schema refused")
	T.ok(err:find("invalid sproto schema", 1, true), "garbage schema reason: " .. tostring(err))
	local good = parser.parse ".A { x 0 : integer  y 1 : *A(x) }"
	for n = 0, #good - 1 do
		T.ok(not pcall(sproto.new, good:sub(1, n)), "truncated schema " .. n)
	end
	for _ = 1, 2000 do
		pcall(sproto.new, mutate(good))
	end
	-- parser errors name what is wrong
	T.raises("syntax error at [=text] line (2)", parser.parse, ".A {\n x : integer }")
	T.raises("Undefined type Missing in type A", parser.parse, ".A { x 0 : Missing }")
	T.raises("redefine tag 0 in type A", parser.parse, ".A { x 0 : integer  y 0 : string }")
	T.raises("redefine x in type A", parser.parse, ".A { x 0 : integer  x 1 : string }")
	T.raises("redefined protocol tag 1", parser.parse, "a 1 {}  b 1 {}")
	T.raises("must only have two fields", parser.parse, ".P { a 0 : string } .A { m 0 : *P() }")
	T.raises("Invalid map index", parser.parse, ".P { a 0 : string } .A { m 0 : *P(zz) }")
	T.raises("Undefined request type", parser.parse, "a 1 { request Nope }")
	T.raises("larger than 32766", parser.parse, ".A { x 40000 : integer }")
end

local function check_loader_and_rpc()
	local schema = parser.parse [[
.package { type 0 : integer  session 1 : integer  ud 2 : integer }
.Point { x 0 : integer  y 1 : integer }
move 1 {
	request { to 0 : Point  speed 1 : integer(1) }
	response { ok 0 : boolean  at 1 : Point }
}
notify 2 { request { text 0 : string } }
ping 3 { response nil }
tick 4 {}
]]
	loader.save(schema, 3)
	local sp = loader.load(3)
	local host = sp:host "package"
	local request = host:attach(sp)
	local peer = skynet.newservice("t_sproto_peer")

	-- a request with a session: the peer answers, we dispatch the response
	local reply = skynet.call(peer, "lua", "rpc", request("move", { to = { x = 3, y = -4 }, speed = 2.5 }, 1, 77))
	local kind, session, resp, ud = host:dispatch(reply)
	T.eq(kind, "RESPONSE", "response kind")
	T.eq(session, 1, "response session")
	T.same(resp, { ok = true, at = { x = 3, y = -4 } }, "response content")
	T.eq(ud, 78, "response ud")
	-- no session: the peer gets no response function and answers nothing
	T.eq(skynet.call(peer, "lua", "rpc", request("notify", { text = "hi" })), "notified hi", "notification")
	-- `response nil`: a response without content
	kind, session, resp = host:dispatch(skynet.call(peer, "lua", "rpc", request("ping", nil, 2)))
	T.eq(kind, "RESPONSE", "ping response")
	T.eq(session, 2, "ping session")
	T.eq(resp, nil, "ping has no content")
	-- the peer's own request to us, by tag
	kind, session, resp = host:dispatch(skynet.call(peer, "lua", "ask", 5))
	T.eq(kind, "REQUEST", "peer request")
	T.eq(session, "tick", "peer request name")
	T.raises("Unknown session", host.dispatch, host, sproto.pack(sp:encode("package", { session = 99 })))
	-- request_encode/decode and response_encode/decode without a host
	local bin, tag = sp:request_encode("move", { speed = 1 })
	T.eq(tag, 1, "request tag")
	T.same(sp:request_decode("move", bin), { speed = 1.0 }, "request decode")
	T.same(sp:response_decode("move", sp:response_encode("move", { ok = false })), { ok = false }, "response decode")
	T.ok(sp:exist_proto("move") and sp:exist_proto(4) and not sp:exist_proto("nope"), "exist_proto")

	-- the slot's schema outlives a replacement while a service still uses it
	loader.save(parser.parse ".package { type 0 : integer  session 1 : integer }", 3)
	T.eq(skynet.call(peer, "lua", "rpc", request("notify", { text = "again" })), "notified again",
		"the peer's schema survived the slot's replacement")
	T.ok(not loader.load(3):exist_proto("move"), "the slot holds the new schema")
	T.raises("nil sproto at index 9", loader.load, 9)
	T.raises("Invalid global slot index 16", loader.save, schema, 16)
	skynet.send(peer, "lua", "exit")
end

T.main("test_sproto", function()
	check_vectors()
	check_roundtrips()
	check_versions()
	check_encode_errors()
	check_hostile()
	check_loader_and_rpc()
end)
