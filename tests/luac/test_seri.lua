-- Test vectors for skynet.pack / skynet.unpack, written from the format described in lualib-src/lua-seri.h.
-- Run by test_seri.c, which provides the global `seri`.

local passed, failed = 0, 0

local function case(name, fn)
	local ok, err = pcall(fn)
	if ok then
		passed = passed + 1
	else
		failed = failed + 1
		print("FAIL " .. name .. ": " .. tostring(err))
	end
end

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function unhex(h)
	h = h:gsub("%s", "")
	return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

-- pack through the C-buffer path, check it equals packstring, free it
local function packed(...)
	local ud, sz = seri.pack(...)
	assert(type(ud) == "userdata" and math.type(sz) == "integer")
	local s = seri.bytes(ud, sz)
	seri.trash(ud)
	local s2 = seri.packstring(...)
	assert(s == s2, "pack and packstring differ")
	return s
end

local function expect_bytes(expected_hex, ...)
	local got = hex(packed(...))
	local want = expected_hex:gsub("%s", "")
	assert(got == want, "packed " .. got .. " want " .. want)
end

local function deep_equal(a, b)
	if type(a) ~= type(b) then return false end
	if type(a) ~= "table" then
		if type(a) == "number" then
			if a ~= a and b ~= b then return true end -- NaN
			return a == b and math.type(a) == math.type(b)
		end
		return a == b
	end
	for k, v in pairs(a) do
		if not deep_equal(v, b[k]) then return false end
	end
	for k in pairs(b) do
		if a[k] == nil then return false end
	end
	return true
end

local function roundtrip(...)
	local n = select("#", ...)
	local s = packed(...)
	local out = table.pack(seri.unpack_exact(s))
	assert(out.n == n, "value count " .. out.n .. " want " .. n)
	for i = 1, n do
		assert(deep_equal(out[i], (select(i, ...))), "value " .. i .. " differs")
	end
	-- the lightuserdata + size form decodes the same way
	local ud, sz = seri.pack(...)
	local out2 = table.pack(seri.unpack(ud, sz))
	seri.trash(ud)
	assert(out2.n == n)
	return out
end

local function expect_error(pattern, fn, ...)
	local ok, err = pcall(fn, ...)
	assert(not ok, "expected an error matching " .. pattern)
	assert(type(err) == "string" and err:find(pattern), "error was: " .. tostring(err))
end

local INVALID = "^Invalid serialize stream %-?%d+ %(line:%d+%)$"

-- one encoded value: any strict non-empty prefix of it must be rejected
local function check_truncations(s)
	for i = 1, #s - 1 do
		expect_error(INVALID, seri.unpack_exact, s:sub(1, i))
	end
end

------------------------------------------------------------------ scalars
case("nil and booleans", function()
	expect_bytes("00", nil)
	expect_bytes("09", true)
	expect_bytes("01", false)
	roundtrip(nil, true, false)
end)

local integer_vectors = {
	{ 0, "02" },
	{ 1, "0a01" },
	{ 255, "0aff" },
	{ 256, "120001" },
	{ 65535, "12ffff" },
	{ 65536, "2200000100" },
	{ 0x7fffffff, "22ffffff7f" },
	{ 0x80000000, "320000008000000000" },
	{ -1, "22ffffffff" },
	{ -0x80000000, "2200000080" },
	{ -0x80000001, "32ffffff7fffffffff" },
	{ math.mininteger, "320000000000000080" },
	{ math.maxinteger, "32ffffffffffffff7f" },
}

case("integer widths", function()
	for _, v in ipairs(integer_vectors) do
		expect_bytes(v[2], v[1])
		local out = roundtrip(v[1])
		assert(math.type(out[1]) == "integer")
		check_truncations(unhex(v[2]))
	end
end)

case("floats stay floats", function()
	expect_bytes("42 000000000000f03f", 1.0)
	expect_bytes("42 000000000000e03f", 0.5)
	expect_bytes("42 0000000000000080", -0.0)
	expect_bytes("42 000000000000f07f", math.huge)
	for _, f in ipairs { 1.0, 0.5, -2.25, 1e300, -1e-300, math.huge, -math.huge, 0 / 0 } do
		local out = roundtrip(f)
		assert(math.type(out[1]) == "float")
	end
	check_truncations(unhex("42 000000000000f03f"))
end)

case("decoder widths are unsigned for BYTE/WORD, signed for DWORD/QWORD", function()
	assert(seri.unpack(unhex("0aff")) == 255)
	assert(seri.unpack(unhex("12ffff")) == 65535)
	assert(seri.unpack(unhex("22ffffffff")) == -1)
	assert(seri.unpack(unhex("32ffffffffffffffff")) == -1)
	-- DWORD with the sign bit from a non-canonical encoder
	assert(seri.unpack(unhex("2200000080")) == -0x80000000)
end)

case("strings at the length boundaries", function()
	expect_bytes("04", "")
	expect_bytes("0c61", "a")
	local s31, s32 = string.rep("x", 31), string.rep("y", 32)
	expect_bytes("fc" .. hex(s31), s31)
	expect_bytes("152000" .. hex(s32), s32)
	local s65535, s65536 = string.rep("z", 65535), string.rep("w", 65536)
	assert(hex(packed(s65535):sub(1, 3)) == "15ffff")
	assert(#packed(s65535) == 3 + 65535)
	assert(hex(packed(s65536):sub(1, 5)) == "2500000100")
	assert(#packed(s65536) == 5 + 65536)
	for _, s in ipairs { "", "a", s31, s32, s65535, s65536, "\0\1\2\255" } do
		roundtrip(s)
	end
	check_truncations(packed(s32))
	check_truncations(packed("abc"))
	local long = packed(string.rep("q", 300))
	check_truncations(long:sub(1, 4) .. "") -- header only
	expect_error(INVALID, seri.unpack_exact, long:sub(1, #long - 1))
end)

case("lightuserdata is the raw pointer", function()
	local ud, sz = seri.pack("probe")
	local s = packed(ud)
	assert(#s == 1 + string.packsize("j"), "pointer width")
	assert(s:byte(1) == 0x03)
	local back = seri.unpack(s)
	assert(back == ud)
	seri.trash(ud)
	assert(sz == 6)
	check_truncations(s)
end)

------------------------------------------------------------------ tables
case("empty and small tables", function()
	expect_bytes("0600", {})
	expect_bytes("1e 0a01 0a02 0a03 00", { 1, 2, 3 })
	expect_bytes("06 0c61 0a01 00", { a = 1 })
	expect_bytes("0e 0a01 0c78 0a02 00", { 1, x = 2 })
	roundtrip({}, { 1, 2, 3 }, { a = 1 }, { 1, x = 2 })
	check_truncations(unhex("0e 0a01 0c78 0a02 00"))
end)

local function seq(n)
	local t = {}
	for i = 1, n do t[i] = i end
	return t
end

-- the decoder makes tables of up to 32 array values and 32 pairs at their
-- final size, and fills larger ones as it reads: both sides of each bound
case("tables around the 32 values / 32 pairs staging bounds", function()
	local function hash(count, nested)
		local t = {}
		for i = 1, count do t["k" .. i] = nested and { i, x = i } or i end
		return t
	end
	local function mixed(narr, npairs)
		local t = hash(npairs, true)
		for i = 1, narr do t[i] = "v" .. i end
		return t
	end
	roundtrip(hash(0), hash(1), hash(31), hash(32), hash(33), hash(64, true), hash(100))
	roundtrip(mixed(32, 32), mixed(32, 33), mixed(33, 32), mixed(5, 70), { {}, { {} }, x = {} })
	-- a duplicated key in a hostile stream: the last value wins, as before staging
	local dup = "\x06" .. "\x14ka\x0a\x01" .. "\x14ka\x0a\x02" .. "\x00"
	assert(seri.unpack_exact(dup).ka == 2)
	check_truncations(packed(mixed(3, 40)))
end)

case("array part 0 / 30 / 31 / 100", function()
	-- 30: size in the cookie
	local s30 = packed(seq(30))
	assert(s30:byte(1) == 0xf6, hex(s30:sub(1, 1)))
	assert(#s30 == 1 + 30 * 2 + 1)
	-- 31: cookie 31 and the size as a number value
	local s31 = packed(seq(31))
	assert(hex(s31:sub(1, 3)) == "fe0a1f", hex(s31:sub(1, 3)))
	local s100 = packed(seq(100))
	assert(hex(s100:sub(1, 3)) == "fe0a64")
	local s300 = packed(seq(300))
	assert(hex(s300:sub(1, 4)) == "fe122c01")
	roundtrip(seq(0), seq(30), seq(31), seq(100), seq(300))
	check_truncations(s31)
end)

case("hash part and mixed keys", function()
	local t = { 10, 20, 30, name = "skiff", [1.5] = "f", [true] = false, [-7] = { x = 1 },
		nested = { deep = { deeper = { "v" } } } }
	t[100] = "sparse"
	local out = roundtrip(t)
	assert(out[1][100] == "sparse" and out[1][1.5] == "f")
	check_truncations(packed(t))
end)

-- With Skiff's Lua, pack reads tables directly (lua-seri.c, the direct walk):
-- its array count stops at the first nil; values past it, in the array
-- part or not, go as pairs; a metatable anywhere sends the message through
-- the API walk from its start. Every shape must decode to the same table.
case("holes, hinted array sizes, keys of every type, metatables midway", function()
	local holes = { 1, nil, 3, nil, nil, 6 }
	roundtrip(holes, { nil, nil, "third" }, { [1] = "a", [3] = "c" })
	-- '#' may leave the array size as a hint below the real size: values past it still count
	local hinted = {}
	for i = 1, 16 do hinted[i] = i end
	for i = 10, 16 do hinted[i] = nil end
	hinted[14] = "fourteen"
	assert(#hinted == 9) -- Lua 5.4 now keeps 9 as the array's size hint; its real size is 16
	local out = roundtrip(hinted)
	assert(out[1][14] == "fourteen" and out[1][9] == 9 and out[1][10] == nil)
	-- keys of every packable type, values of every packable type
	local ud = seri.pack("probe") -- a lightuserdata
	local keys = { [false] = 1, [true] = 2, [0] = 3, [-1] = 4, [2 ^ 40] = 5, [0.25] = 6,
		s = 7, [string.rep("L", 50)] = 8, [math.mininteger] = 9, [math.maxinteger] = 10 }
	roundtrip(keys, { 1.5, -0.0, math.huge, "x", string.rep("y", 40), false, true, {} })
	roundtrip({ [ud] = ud, inner = { ud } })
	seri.trash(ud)
	-- a metatable midway, with and without __pairs, in a small and a large message
	local plain_mt = setmetatable({ 4, 5, k = "v" }, {})
	local calls = 0
	local proxy = setmetatable({}, { __pairs = function() calls = calls + 1 return next, { p = 1 }, nil end })
	for _, pad in ipairs { "p", string.rep("p", 2000) } do
		local before = packed(pad, { 1, 2, { x = 1 } }, { plain = { 4, 5, k = "v" } })
		local s = packed(pad, { 1, 2, { x = 1 } }, { plain = plain_mt })
		assert(s == before, "a metatable without __pairs packs as its table")
		calls = 0
		local o = table.pack(seri.unpack_exact(packed(pad, { a = { b = proxy } }, 7)))
		assert(calls == 2 and o[2].a.b.p == 1 and o[2].a.b.hidden == nil and o[3] == 7, calls)
	end
	-- errors raised deep inside the walk
	expect_error("^Unsupport type function to serialize$", seri.pack, { 1, 2, { k = { print } } })
	expect_error("^Unsupport type thread to serialize$", seri.packstring, { [coroutine.create(print)] = 1 })
end)

case("__pairs decides what is packed", function()
	local proxy = setmetatable({ hidden = 1 }, {
		__pairs = function()
			return next, { k = 1 }, nil
		end,
	})
	expect_bytes("06 0c6b 0a01 00", proxy)
	-- the array part is not used: sequence values become explicit pairs
	local arr = setmetatable({}, { __pairs = function() return ipairs { "a", "b" } end })
	expect_bytes("06 0a01 0c61 0a02 0c62 00", arr)
	local out = table.pack(seri.unpack_exact(packed(arr)))
	assert(deep_equal(out[1], { "a", "b" }))
	-- metatables are not preserved
	assert(getmetatable(out[1]) == nil and out[1][2] == "b")
end)

-- pack runs a first pass in its inline buffer and starts over when the
-- message outgrows it or meets __pairs: a metamethod still runs once per pack
case("__pairs runs once per pack, small or large message", function()
	local calls = 0
	local proxy = setmetatable({}, { __pairs = function() calls = calls + 1 return next, { k = 1 }, nil end })
	seri.trash(seri.pack(proxy))
	assert(calls == 1, "small message: " .. calls)
	seri.trash(seri.pack(string.rep("x", 2000), proxy))
	assert(calls == 2, "large message: " .. calls)
	assert(#seri.packstring({ 1, 2 }, proxy) > 0 and calls == 3, "packstring: " .. calls)
end)

case("errors name the Lua caller's line, in either pass", function()
	local function caller(...) return seri.pack(...) end -- this line is in the message
	local line = debug.getinfo(caller, "S").linedefined
	local where = "test_seri.lua:" .. line .. ": "
	for _, big in ipairs { false, true } do
		local pad = big and string.rep("p", 1000) or "p"
		local ok, err = pcall(caller, pad, print)
		assert(not ok and err:find(where .. "Unsupport type function to serialize", 1, true), err)
		ok, err = pcall(caller, pad, { { { { { { { { { { { { { { { { { { { { { { { { { { { { { { { { { {} } } } } } } } } } } } } } } } } } } } } } } } } } } } } } } } } })
		assert(not ok and err:find(where .. "serialize can't pack too depth table", 1, true), err)
	end
end)

case("an erroring __pairs propagates and frees the buffer", function()
	local bad = setmetatable({}, { __pairs = function() error("pairs boom") end })
	-- a big string first forces the heap buffer, which must not leak (valgrind run)
	expect_error("pairs boom", seri.pack, string.rep("b", 100000), bad)
	expect_error("pairs boom", seri.packstring, string.rep("b", 100000), bad)
end)

local function nest(n)
	local t = {}
	for _ = 1, n do t = { t } end
	return t
end

case("depth 32 packs, 33 does not", function()
	roundtrip(nest(32))
	expect_error("^serialize can't pack too depth table$", seri.pack, nest(33))
	expect_error("^serialize can't pack too depth table$", seri.packstring, nest(33))
	-- a cycle hits the depth limit instead of looping
	local cyc = {}
	cyc.self = cyc
	expect_error("^serialize can't pack too depth table$", seri.pack, cyc)
	-- and the decoder refuses what the encoder refuses
	local deep = string.rep("0e", 34) .. "00" .. string.rep("00", 34)
	expect_error(INVALID, seri.unpack_exact, deep)
	local ok_deep = packed(nest(32))
	assert(select("#", seri.unpack_exact(ok_deep)) == 1)
end)

case("unsupported types", function()
	expect_error("^Unsupport type function to serialize$", seri.pack, print)
	expect_error("^Unsupport type thread to serialize$", seri.pack, coroutine.create(print))
	expect_error("^Unsupport type userdata to serialize$", seri.pack, io.stdout)
	expect_error("^Unsupport type function to serialize$", seri.packstring, { f = print })
end)

------------------------------------------------------------------ streams
case("several values, nil in the middle, and no values", function()
	expect_bytes("0a01 00 0c78", 1, nil, "x")
	local out = roundtrip(1, nil, "x")
	assert(out.n == 3 and out[2] == nil)
	local ud, sz = seri.pack()
	assert(sz == 0)
	assert(select("#", seri.unpack(ud, sz)) == 0)
	seri.trash(ud)
	assert(seri.packstring() == "")
	assert(select("#", seri.unpack("")) == 0)
	assert(select("#", seri.unpack(nil)) == 0)
	assert(select("#", seri.unpack()) == 0)
end)

case("many values grow the Lua stack", function()
	local t = {}
	for i = 1, 5000 do t[i] = i end
	local out = roundtrip(table.unpack(t))
	assert(out.n == 5000 and out[5000] == 5000)
end)

case("large payload through the heap buffer", function()
	local big = {}
	for i = 1, 2000 do big[i] = { id = i, name = "player" .. i, pos = { i * 0.5, -i } } end
	local out = roundtrip(big, string.rep("z", 1 << 20))
	assert(out[1][2000].name == "player2000")
end)

------------------------------------------------------------------ hostile input
case("bad tags", function()
	for _, h in ipairs {
		"07", "ff", "0f", -- type 7
		"1a", "2a", "3a", "4a", "5a", -- number cookies 3,5,7,9,11
		"0d", "1d", "2d", "35", -- long string cookies 1,3,5,6
		"fe 04", "fe 0c61", -- table size is not a number
		"fe 42 000000000000f03f", -- table size is a REAL
		"fe 22ffffffff", -- negative table size
		"fe 2a", -- bad number cookie in the size
	} do
		expect_error(INVALID, seri.unpack_exact, unhex(h))
	end
end)

case("huge lengths cannot over-read or over-allocate", function()
	expect_error(INVALID, seri.unpack_exact, unhex("25 ffffffff 61"))
	expect_error(INVALID, seri.unpack_exact, unhex("15 ffff 6162"))
	expect_error(INVALID, seri.unpack_exact, unhex("fc 616263"))
	expect_error(INVALID, seri.unpack_exact, unhex("fe 32 ffffffffffffff7f"))
	expect_error(INVALID, seri.unpack_exact, unhex("fe 22 ffffff7f 00"))
	expect_error(INVALID, seri.unpack_exact, unhex("fe 12 ffff") .. string.rep("\0", 100))
end)

case("unterminated hash part and NaN keys", function()
	expect_error(INVALID, seri.unpack_exact, unhex("06 0a01 0a02"))
	expect_error(INVALID, seri.unpack_exact, unhex("06 0a01"))
	expect_error(INVALID, seri.unpack_exact, unhex("06 42 000000000000f87f 0a01 00"))
end)

case("deep hostile nesting is rejected, not recursed into", function()
	expect_error(INVALID, seri.unpack_exact, string.rep("\x0e", 100000))
	expect_error(INVALID, seri.unpack_exact, string.rep("\x06\x06", 50000))
end)

case("every truncation of a composite stream", function()
	local s = packed({ 1, 2.5, "str", { nested = true, list = seq(40) }, [false] = "f", big = 1 << 40 })
	check_truncations(s)
	-- and corrupting each byte never crashes (errors are fine, so is a different value)
	for i = 1, #s do
		for _, b in ipairs { 0x00, 0x07, 0xff, 0x3e } do
			local c = s:sub(1, i - 1) .. string.char(b) .. s:sub(i + 1)
			pcall(seri.unpack_exact, c)
		end
	end
end)

case("unpack argument checks", function()
	local null = seri.unpack(unhex("03" .. string.rep("00", string.packsize("j"))))
	assert(type(null) == "userdata")
	expect_error("deserialize null pointer", seri.unpack, null, 4)
	local ud = seri.pack(1)
	expect_error("negative size", seri.unpack, ud, -1)
	seri.trash(ud)
end)

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then
	error("seri tests failed")
end
