-- bson: every BSON type both ways, skynet's constructors and bson.type, and
-- the decode errors of the BSON specification's corpus (bad lengths, missing
-- terminators, bad UTF-8, bad booleans, unknown types, ...), written here as
-- our own vectors: the expected bytes are built by the small spec-following
-- helpers below (string.pack), not by the module under test.
local skynet = require "skynet"
local bson = require "bson"
local T = require "testlib"

local pack = string.pack

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

-- the wire form, by the spec: document = int32 total, elements, 0x00
local function doc(...)
	local body = table.concat { ... }
	return pack("<i4", #body + 5) .. body .. "\0"
end
local function el(t, key, payload) return string.char(t) .. key .. "\0" .. payload end
local function str(s) return pack("<i4", #s + 1) .. s .. "\0" end

local function same(a, b)
	if type(a) ~= "table" or type(b) ~= "table" then
		if a ~= a and b ~= b then return true end -- NaN
		return a == b and math.type(a) == math.type(b)
	end
	for k, v in pairs(a) do if not same(v, b[k]) then return false end end
	for k in pairs(b) do if a[k] == nil then return false end end
	return true
end

T.main("test_bson", function()
	local oid = bson.objectid "56e1fc72e0c917e9c4714161"
	local cws = str "x+y" .. doc(el(0x10, "x", pack("<i4", 1))) -- code, then its scope
	local vectors = {
		-- { what, Lua value of field "a", payload type, payload bytes }
		{ "double", 1.5, 0x01, pack("<d", 1.5) },
		{ "double -0.0", -0.0, 0x01, pack("<d", -0.0) },
		{ "double 1.0 stays a float", 1.0, 0x01, pack("<d", 1.0) },
		{ "double inf", math.huge, 0x01, pack("<d", math.huge) },
		{ "double nan", 0 / 0, 0x01, pack("<d", 0 / 0) },
		{ "string", "héllo wörld", 0x02, str "héllo wörld" },
		{ "empty string", "", 0x02, str "" },
		{ "string with a NUL inside", "a\0b", 0x02, str "a\0b" },
		{ "four-byte UTF-8", "\u{1F600}", 0x02, str "\u{1F600}" },
		{ "document", { b = 7 }, 0x03, doc(el(0x10, "b", pack("<i4", 7))) },
		{ "array", { 1, "x", true }, 0x04, doc(el(0x10, "0", pack("<i4", 1)), el(0x02, "1", str "x"), el(0x08, "2", "\1")) },
		{ "nested arrays", { { 1 }, { { 2 } } }, 0x04,
			doc(el(0x04, "0", doc(el(0x10, "0", pack("<i4", 1)))),
				el(0x04, "1", doc(el(0x04, "0", doc(el(0x10, "0", pack("<i4", 2))))))) },
		{ "binary", bson.binary "\0\1\2\255", 0x05, pack("<i4B", 4, 0) .. "\0\1\2\255" },
		{ "binary empty", bson.binary "", 0x05, pack("<i4B", 0, 0) },
		{ "binary user subtype", bson.binary("xyz", 0x80), 0x05, pack("<i4B", 3, 0x80) .. "xyz" },
		{ "binary uuid", bson.binary(string.rep("\x73", 16), 4), 0x05, pack("<i4B", 16, 4) .. string.rep("\x73", 16) },
		{ "binary old subtype 2", bson.binary(pack("<i4", 2) .. "hi", 2), 0x05, pack("<i4B<i4", 6, 2, 2) .. "hi" },
		{ "undefined", "\0\6", 0x06, "" },
		{ "objectid", oid, 0x07, "\x56\xe1\xfc\x72\xe0\xc9\x17\xe9\xc4\x71\x41\x61" },
		{ "true", true, 0x08, "\1" },
		{ "false", false, 0x08, "\0" },
		{ "date in seconds (skynet's form)", bson.date(1234567890), 0x09, pack("<i8", 1234567890000) },
		{ "date epoch", bson.date(0), 0x09, pack("<i8", 0) },
		{ "date before 1970", bson.date(-284643870, 499), 0x09, pack("<i8", -284643869501) },
		{ "date with milliseconds", bson.date(1, 1), 0x09, pack("<i8", 1001) },
		{ "date past 2106", bson.date(253402300800), 0x09, pack("<i8", 253402300800000) },
		{ "null", bson.null, 0x0a, "" },
		{ "regex", bson.regex("^abc$", "im"), 0x0b, "^abc$\0im\0" },
		{ "regex without options", bson.regex "a.c", 0x0b, "a.c\0\0" },
		{ "dbpointer", "\0\12" .. str "b" .. oid:sub(3), 0x0c, str "b" .. oid:sub(3) },
		{ "code", "\0\13" .. str "function(){}", 0x0d, str "function(){}" },
		{ "symbol", "\0\14" .. str "sym", 0x0e, str "sym" },
		{ "code with scope", "\0\15" .. pack("<i4", 4 + #cws) .. cws, 0x0f, pack("<i4", 4 + #cws) .. cws },
		{ "int32", 42, 0x10, pack("<i4", 42) },
		{ "int32 min", -2147483648, 0x10, pack("<i4", -2147483648) },
		{ "int32 max", 2147483647, 0x10, pack("<i4", 2147483647) },
		{ "timestamp", bson.timestamp(123456789, 42), 0x11, pack("<I4I4", 42, 123456789) },
		{ "timestamp with high bits", bson.timestamp(4294967295, 4294967295), 0x11, pack("<I4I4", 4294967295, 4294967295) },
		{ "int64 beyond int32", 2147483648, 0x12, pack("<i8", 2147483648) },
		{ "int64 min", math.mininteger, 0x12, pack("<i8", math.mininteger) },
		{ "int64 max", math.maxinteger, 0x12, pack("<i8", math.maxinteger) },
		{ "decimal128", "\0\19" .. string.rep("\0", 14) .. "\x40\x30", 0x13, string.rep("\0", 14) .. "\x40\x30" },
		{ "minkey", bson.minkey, 0xff, "" },
		{ "maxkey", bson.maxkey, 0x7f, "" },
	}
	for _, v in ipairs(vectors) do
		local what, value, t, payload = v[1], v[2], v[3], v[4]
		local want = doc(el(t, "a", payload))
		local got = tostring(bson.encode { a = value })
		T.eq(hex(got), hex(want), "encode " .. what)
		local back = bson.decode(want).a
		T.ok(same(back, value), "decode " .. what)
	end
	-- int64 made by bson.int64 is an int64 on the wire even when small, a plain integer back
	T.eq(hex(tostring(bson.encode { a = bson.int64(1) })), hex(doc(el(0x12, "a", pack("<i8", 1)))), "bson.int64(1)")
	T.eq(math.type(bson.decode(doc(el(0x12, "a", pack("<i8", 1)))).a), "integer", "int64 decodes to an integer")
	-- arrays: the position counts, whatever the keys say (the corpus's "index set incorrectly")
	T.same(bson.decode(doc(el(0x04, "a", doc(el(0x10, "5", pack("<i4", 9)), el(0x10, "x", pack("<i4", 8)))))).a,
		{ 9, 8 }, "array keys are positions")
	T.same(bson.decode(doc()), {}, "empty document")
	T.same(bson.decode(doc(el(0x03, "", doc()))), { [""] = {} }, "empty key, empty subdocument")

	-- bson.type
	local function ty(v) return table.pack(bson.type(v)) end
	T.same(ty(1), { "number", 1, n = 2 }, "type number")
	T.same(ty(true), { "boolean", true, n = 2 }, "type boolean")
	T.same(ty "s", { "string", "s", n = 2 }, "type string")
	T.eq(ty({})[1], "table", "type table")
	T.same(ty(nil), { "nil", n = 1 }, "type nil")
	T.same(ty(bson.null), { "nil", n = 1 }, "type null")
	T.same(ty(bson.binary("xy", 5)), { "binary", "xy", 5, n = 3 }, "type binary")
	T.same(ty(oid), { "objectid", "56e1fc72e0c917e9c4714161", n = 2 }, "type objectid")
	T.same(ty(bson.date(77)), { "date", 77, n = 2 }, "type date")
	T.same(ty(bson.date(-2, 250)), { "date", -2, 250, n = 3 }, "type date before 1970")
	T.same(ty(bson.timestamp(9, 3)), { "timestamp", 9, 3, n = 3 }, "type timestamp")
	T.same(ty(bson.regex("p", "i")), { "regex", "p", "i", n = 3 }, "type regex")
	T.same(ty(bson.minkey), { "minkey", n = 1 }, "type minkey")
	T.same(ty(bson.maxkey), { "maxkey", n = 1 }, "type maxkey")
	T.same(ty(bson.int64(-5)), { "int64", -5, n = 2 }, "type int64")
	T.eq(ty("\0\13" .. str "c")[1], "unsupported", "type code")
	-- timestamps without an increment count up
	local _, _, i1 = bson.type(bson.timestamp(5))
	local _, _, i2 = bson.type(bson.timestamp(5))
	T.eq(i2, i1 + 1, "timestamp increments")
	-- objectids: 12 bytes, this second, distinct
	local seen = {}
	for _ = 1, 1000 do
		local _, h = bson.type(bson.objectid())
		T.ok(not seen[h], "objectids are distinct")
		seen[h] = true
		local secs = tonumber(h:sub(1, 8), 16)
		T.ok(math.abs(secs - os.time()) < 5, "objectid time")
	end
	T.raises("Invalid objectid", bson.objectid, "xyz")
	T.raises("Invalid objectid", bson.objectid, "zz" .. string.rep("0", 22))

	-- the bson object
	local b = bson.encode { x = 1, y = { "a", "b" } }
	T.eq(#b, #tostring(b), "# is the size")
	T.same(b:decode(), { x = 1, y = { "a", "b" } }, "b:decode()")
	T.same(bson.decode(tostring(b)), { x = 1, y = { "a", "b" } }, "decode from a string")
	T.same(bson.decode(bson.encode { inner = b }), { inner = { x = 1, y = { "a", "b" } } }, "an encoded document embedded")
	-- encode_order keeps the order
	local o = tostring(bson.encode_order("z", 1, "a", 2, "m", bson.null))
	T.eq(hex(o), hex(doc(el(0x10, "z", pack("<i4", 1)), el(0x10, "a", pack("<i4", 2)), el(0x0a, "m", ""))), "encode_order")
	T.raises("Invalid ordered dict", bson.encode_order, "a")
	T.raises("need a string", bson.encode_order, 1, 2)
	-- __len and __pairs
	local arr = setmetatable({}, { __len = function() return 2 end, __index = function(_, i) return i * 10 end })
	T.same(bson.decode(bson.encode { a = arr }).a, { 10, 20 }, "__len makes an array")
	local keys = { "k1", "k2" }
	local ordered = setmetatable({}, { __pairs = function()
		local i = 0
		return function() i = i + 1 if keys[i] then return keys[i], i end end, nil, nil
	end })
	T.eq(hex(tostring(bson.encode(ordered))), hex(doc(el(0x10, "k1", pack("<i4", 1)), el(0x10, "k2", pack("<i4", 2)))), "__pairs order")

	-- encode errors
	T.raises("Use bson.null", bson.encode, { a = { 1, nil, 3 } })
	T.raises("key can't be number", bson.encode, { a = { [5] = 1 } })
	T.raises("Invalid key type", bson.encode, { [true] = 1 })
	T.raises("Invalid utf8 string", bson.encode, { a = "\xff\xfe" })
	T.raises("Invalid utf8 string", bson.encode, { a = "\xed\xa0\x80" }) -- a surrogate
	T.raises("Invalid utf8 string", bson.encode, { a = "\xc0\xaf" }) -- overlong
	T.raises("Invalid utf8 string (key)", bson.encode, { ["\xff"] = 1 })
	T.raises("key contains a NUL", bson.encode, { ["a\0b"] = 1 })
	T.raises("Invalid value type : function", bson.encode, { a = print })
	T.raises("Invalid object id", bson.encode, { a = "\0\7short" })
	T.raises("Invalid date", bson.encode, { a = "\0\9abc" })
	T.raises("Invalid subtype", bson.encode, { a = "\0\99x" })
	T.raises("no payload expected", bson.encode, { a = "\0\10x" })
	T.raises("Invalid bson", bson.encode, { a = "\0\13" .. pack("<i4", 99) .. "x\0" })
	T.raises("Invalid regex", bson.regex, "a\0b")
	local deep = {}
	local cur = deep
	for _ = 1, 200 do cur.x = {} cur = cur.x end
	T.raises("Too depth", bson.encode, deep)
	local loop = {}
	loop.self = loop
	T.raises("Too depth", bson.encode, loop)

	-- decode errors, modelled on the corpus's decodeErrors
	local S = el(0x02, "a", "")
	local errors = {
		{ "empty input", "" },
		{ "size too small for itself", "\1\0\0\0\0" },
		{ "size only covering itself", "\4\0\0\0\0" },
		{ "missing final NUL", pack("<i4", 5) .. "\1" },
		{ "EOO is 0x01", pack("<i4", 5) .. "\1" },
		{ "EOO is 0xff", pack("<i4", 5) .. "\255" },
		{ "byte count zero", pack("<i4", 0) .. "\0" },
		{ "stated length exceeds the bytes", pack("<i4", 12) .. "\0" },
		{ "garbage after the envelope", doc() .. "\0" },
		{ "invalid type low", doc(el(0x00, "a", "")) },
		{ "invalid type high", doc(el(0x80, "a", "")) },
		{ "invalid type 0x20", doc(el(0x20, "a", "")) },
		{ "truncated mid-key", pack("<i4", 8) .. "\x10ab\0" },
		{ "key not UTF-8", doc(el(0x0a, "\xff", "")) },
		{ "double truncated", doc(el(0x01, "a", "\0\0\0")) },
		{ "int32 truncated", doc(el(0x10, "a", "\0\0")) },
		{ "int64 truncated", doc(el(0x12, "a", "\0\0\0\0\0")) },
		{ "timestamp truncated", doc(el(0x11, "a", "\0\0\0\0\0")) },
		{ "date truncated", doc(el(0x09, "a", "\0\0\0")) },
		{ "objectid truncated", doc(el(0x07, "a", "0123456789")) },
		{ "decimal128 truncated", doc(el(0x13, "a", string.rep("\0", 15))) },
		{ "boolean 2", doc(el(0x08, "a", "\2")) },
		{ "boolean -1", doc(el(0x08, "a", "\255")) },
		{ "string length 0", doc(S .. pack("<i4", 0)) },
		{ "string length -1", doc(S .. pack("<i4", -1) .. "\0") },
		{ "string length eats the terminator", doc(el(0x02, "a", pack("<i4", 6) .. "hello")) },
		{ "string longer than the document", doc(el(0x02, "a", pack("<i4", 99) .. "hi\0")) },
		{ "string not NUL-terminated", doc(el(0x02, "a", pack("<i4", 3) .. "hiX")) },
		{ "empty string with an extra NUL", doc(el(0x02, "a", pack("<i4", 1) .. "\0\0")) },
		{ "string not UTF-8", doc(el(0x02, "a", str "\xe9t\xe9")) },
		{ "code not UTF-8", doc(el(0x0d, "a", str "\xff")) },
		{ "symbol length -1", doc(el(0x0e, "a", pack("<i4", -1) .. "\0")) },
		{ "subdocument too long", doc(el(0x03, "a", pack("<i4", 9) .. "\0")) },
		{ "subdocument too short", doc(el(0x03, "a", pack("<i4", 4) .. "\0")) },
		{ "subdocument with a bad string", doc(el(0x03, "a", doc(el(0x02, "b", pack("<i4", 50) .. "x\0")))) },
		{ "array too long", doc(el(0x04, "a", pack("<i4", 20) .. "\0")) },
		{ "binary longer than the document", doc(el(0x05, "a", pack("<i4B", 20, 0) .. "xy")) },
		{ "binary negative length", doc(el(0x05, "a", pack("<i4B", -1, 0))) },
		{ "binary subtype 2 inner too long", doc(el(0x05, "a", pack("<i4B<i4", 6, 2, 3) .. "hi")) },
		{ "binary subtype 2 inner too short", doc(el(0x05, "a", pack("<i4B<i4", 6, 2, 1) .. "hi")) },
		{ "binary subtype 2 inner -1", doc(el(0x05, "a", pack("<i4B<i4", 6, 2, -1) .. "hi")) },
		{ "regex without its flags' NUL", pack("<i4", 10) .. "\x0ba\0b\0c" .. "\0" },
		{ "dbpointer with a short id", doc(el(0x0c, "a", str "b" .. "12345")) },
		{ "dbpointer string not UTF-8", doc(el(0x0c, "a", str "\xff" .. string.rep("x", 12))) },
		{ "code_w_scope length zero", doc(el(0x0f, "a", pack("<i4", 0) .. str "x" .. doc())) },
		{ "code_w_scope length negative", doc(el(0x0f, "a", pack("<i4", -1) .. str "x" .. doc())) },
		{ "code_w_scope too short for its parts", doc(el(0x0f, "a", pack("<i4", 12) .. str "x" .. doc())) },
		{ "code_w_scope too long", doc(el(0x0f, "a", pack("<i4", 40) .. str "x" .. doc())) },
		{ "code_w_scope with a bad code length", doc(el(0x0f, "a", pack("<i4", 15) .. pack("<i4", 9) .. "x\0" .. doc())) },
		{ "code_w_scope with a bad scope", doc(el(0x0f, "a", pack("<i4", 4 + 6 + 6) .. str "x" .. pack("<i4", 7) .. "\1\0")) },
	}
	local nest = doc()
	for _ = 1, 200 do nest = doc(el(0x03, "d", nest)) end
	errors[#errors + 1] = { "nested 200 deep", nest }
	for _, e in ipairs(errors) do
		local ok, err = pcall(bson.decode, e[2])
		T.ok(not ok, "decode error expected: " .. e[1])
		T.ok(tostring(err):find("Invalid bson", 1, true), e[1] .. ": " .. tostring(err))
	end
	T.raises("bad argument", bson.decode, 42)

	-- hostile bytes: mutations of a document with every type never crash
	-- and give a table or an "Invalid bson" error
	local all = {}
	for i, v in ipairs(vectors) do all["k" .. i] = v[2] end
	local seed = tostring(bson.encode(all))
	local rng = 12345
	local function rand(n) rng = (rng * 1103515245 + 12345) % 2147483648 return rng % n end
	local decoded = 0
	for _ = 1, 20000 do
		local bytes = { seed:byte(1, -1) }
		for _ = 1, 1 + rand(4) do
			bytes[1 + rand(#bytes)] = rand(256)
		end
		local ok, r = pcall(bson.decode, string.char(table.unpack(bytes)))
		if ok then
			T.eq(type(r), "table", "a decoded mutation is a table")
			decoded = decoded + 1
		else
			T.ok(tostring(r):find("Invalid bson", 1, true), "mutation error: " .. tostring(r))
		end
	end
	-- makeindex: fixed-size top-level values replaced in the object's own bytes
	local oid = bson.objectid()
	local b = bson.encode_order("n", 1, "f", 0.5, "big", 2^40, "ok", true, "name", "x",
		"when", bson.date(1000), "ts", bson.timestamp(7, 1), "id", oid)
	local before = #tostring(b)
	T.raises("call makeindex", function() b.n = 2 end)
	b:makeindex()
	b.n = 2
	b.f = 3
	b.big = 2^41
	b.ok = false
	b.when = bson.date(2000)
	b.ts = bson.timestamp(9, 2)
	local oid2 = bson.objectid()
	b.id = oid2
	T.eq(#tostring(b), before, "the document keeps its length")
	local d = b:decode()
	T.eq(d.n, 2, "int32 replaced") T.eq(d.f, 3.0, "double replaced") T.eq(math.type(d.f), "float", "stays a double")
	T.eq(d.big, 2^41, "int64 replaced") T.eq(d.ok, false, "boolean replaced") T.eq(d.name, "x", "others unchanged")
	T.same({ bson.type(d.when) }, { bson.type(bson.date(2000)) }, "date replaced")
	T.same({ bson.type(d.ts) }, { bson.type(bson.timestamp(9, 2)) }, "timestamp replaced")
	T.eq(d.id, oid2, "objectid replaced")
	T.raises("no field missing", function() b.missing = 1 end)
	T.raises("cannot be replaced in place", function() b.name = "y" end)
	T.raises("cannot take a value", function() b.n = "str" end)
	T.raises("cannot take a value", function() b.n = 2^40 end)
	T.raises("cannot take a value", function() b.ok = 1 end)
	T.eq(b:decode().n, 2, "a refused replacement changes nothing")
	skynet.error("bson: " .. #vectors .. " types, " .. #errors .. " decode errors, " .. decoded .. " of 20000 mutations decoded")
end)
