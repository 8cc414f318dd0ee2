-- crypt_checks — assertions on a skynet.crypt table, shared by the service
-- test (skynet.crypt inside a node) and the plain-Lua client test
-- (client.crypt from luaclib/client.so): both must give the same bytes.
-- Plain Lua: no skynet API here.
--
--   checks.published(crypt)      SHA-1 (FIPS 180), HMAC-SHA1 (RFC 2202),
--                                base64 (RFC 4648 §10), DES (FIPS 81 / the
--                                classic textbook block), skynet's own outputs
--   checks.vectors(crypt, V)     the table written by crypt_vectors.py
--   checks.errors(crypt)         argument checks and skynet's error texts
--   checks.behaviour(crypt)      round trips, randomkey, DH agreement
-- Each returns the number of cases it checked.
local checks = {}

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function unhex(h)
	return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function eq(got, want, what)
	if got ~= want then
		error(string.format("%s: want %s, got %s", what, hex(tostring(want)), hex(tostring(got))), 2)
	end
end

local function raises(pattern, f, ...)
	local ok, err = pcall(f, ...)
	if ok then
		error("expected error '" .. pattern .. "', got success", 2)
	end
	if not string.find(tostring(err), pattern, 1, true) then
		error("expected error '" .. pattern .. "', got: " .. tostring(err), 2)
	end
end

function checks.published(crypt)
	local n = 0
	local function case(got, want_hex, what)
		eq(hex(got), want_hex, what)
		n = n + 1
	end
	-- SHA-1, FIPS 180-2 appendix A
	case(crypt.sha1 "abc", "a9993e364706816aba3e25717850c26c9cd0d89d", "sha1 abc")
	case(crypt.sha1 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		"84983e441c3bd26ebaae4aa1f95129e5e54670f1", "sha1 448 bits")
	case(crypt.sha1(string.rep("a", 1000000)), "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "sha1 million a")
	case(crypt.sha1 "", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1 empty")
	-- HMAC-SHA1, RFC 2202 section 3
	local rfc2202 = {
		{ string.rep("\x0b", 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
		{ "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		{ string.rep("\xaa", 20), string.rep("\xdd", 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
		{ unhex "0102030405060708090a0b0c0d0e0f10111213141516171819", string.rep("\xcd", 50),
			"4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
		{ string.rep("\x0c", 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
		{ string.rep("\xaa", 80), "Test Using Larger Than Block-Size Key - Hash Key First",
			"aa4ae5e15272d00e95705637ce8a3b55ed402112" },
		{ string.rep("\xaa", 80), "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
			"e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	}
	for i, t in ipairs(rfc2202) do
		case(crypt.hmac_sha1(t[1], t[2]), t[3], "hmac_sha1 RFC 2202 case " .. i)
	end
	-- base64, RFC 4648 section 10
	local rfc4648 = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
		fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
	for plain, coded in pairs(rfc4648) do
		eq(crypt.base64encode(plain), coded, "base64encode " .. plain)
		eq(crypt.base64decode(coded), plain, "base64decode " .. coded)
		n = n + 2
	end
	-- DES: the classic worked example, and FIPS 81 appendix B (ECB). The
	-- last block of desencode is padding, so compare the blocks before it.
	local function des_blocks(key, plain)
		local c = crypt.desencode(unhex(key), plain)
		return hex(c:sub(1, #plain))
	end
	eq(des_blocks("133457799bbcdff1", unhex "0123456789abcdef"), "85e813540f0ab405", "DES classic")
	eq(des_blocks("0123456789abcdef", "Now is the time for all "),
		"3fa40e8a984d48156a271787ab8883f9893d51ec4b563b53", "DES FIPS 81 ECB")
	eq(crypt.desdecode(unhex "133457799bbcdff1", crypt.desencode(unhex "133457799bbcdff1", unhex "0123456789abcdef")),
		unhex "0123456789abcdef", "DES decrypt")
	n = n + 3
	-- skynet's own outputs (its test/testcrypt.lua): key "12345678"
	local key = "12345678"
	local function des64(text, pad)
		return crypt.base64encode(crypt.desencode(key, text, crypt.padding[pad or "iso7816_4"]))
	end
	eq(des64 "hello world", "KNugLrX23UcGtcVlk9y+LA==", "desencode iso7816_4")
	eq(crypt.desdecode(key, crypt.base64decode "KNugLrX23UcGtcVlk9y+LA=="), "hello world", "desdecode iso7816_4")
	local pkcs7 = { [""] = "/rlZt9RkL8s=", ["1"] = "g6AtgJul6q0=", ["12"] = "NefFpG+m1O4=",
		["123"] = "LDiFUdf0iew=", ["1234"] = "T9u7dzBdi+w=", ["12345"] = "AGgKdx/Qic8=",
		["123456"] = "ED5wLgc3Mnw=", ["1234567"] = "mYo+BYIT41M=", ["12345678"] = "ltACiHjVjIn+uVm31GQvyw==" }
	for text, coded in pairs(pkcs7) do
		eq(des64(text, "pkcs7"), coded, "desencode pkcs7 " .. text)
		eq(crypt.desdecode(key, crypt.base64decode(coded), crypt.padding.pkcs7), text, "desdecode pkcs7 " .. text)
		n = n + 2
	end
	-- hex
	eq(crypt.hexencode "\x00\x01\xab\xff", "0001abff", "hexencode")
	eq(crypt.hexdecode "0001abff", "\x00\x01\xab\xff", "hexdecode")
	eq(crypt.hexdecode "0001ABFF", "\x00\x01\xab\xff", "hexdecode upper case")
	-- xor_str repeats its key
	eq(crypt.xor_str("abcd", "\x01\x02"), "``bf", "xor_str")
	eq(crypt.xor_str("", "k"), "", "xor_str empty text")
	n = n + 5
	eq(crypt.padding.iso7816_4, 0, "padding.iso7816_4")
	eq(crypt.padding.pkcs7, 1, "padding.pkcs7")
	return n + 2
end

function checks.vectors(crypt, V)
	for i, v in ipairs(V) do
		local fn, args, want = v[1], v[2], v[3]
		eq(crypt[fn](table.unpack(args)), want, string.format("vector %d: %s(%s)", i, fn,
			table.concat((function() local t = {} for j, a in ipairs(args) do t[j] = hex(a) end return t end)(), ", ")))
	end
	return #V
end

function checks.errors(crypt)
	local cases = {
		{ "Invalid key size 3, need 8 bytes", crypt.desencode, "abc", "text" },
		{ "Invalid key size 9, need 8 bytes", crypt.desdecode, "123456789", "12345678" },
		{ "Invalid padding mode 2", crypt.desencode, "12345678", "text", 2 },
		{ "Invalid padding mode -1", crypt.desdecode, "12345678", "12345678", -1 },
		{ "Invalid des crypt text length 7", crypt.desdecode, "12345678", "1234567" },
		{ "Invalid des crypt text length 0", crypt.desdecode, "12345678", "" },
		{ "Invalid des crypt text", crypt.desdecode, "12345678", "\0\0\0\0\0\0\0\0" },
		{ "Invalid hex text size 3", crypt.hexdecode, "abc" },
		{ "Invalid hex text", crypt.hexdecode, "zz" },
		{ "Invalid uint64 x", crypt.hmac64, "short", "12345678" },
		{ "Invalid uint64 y", crypt.hmac64, "12345678", "short" },
		{ "Invalid uint64 x", crypt.hmac64_md5, "", "12345678" },
		{ "Invalid uint64 key", crypt.hmac_hash, "short", "text" },
		{ "Invalid dh uint64 key", crypt.dhexchange, "short" },
		{ "Can't be 0", crypt.dhexchange, "\0\0\0\0\0\0\0\0" },
		{ "Can't be 0", crypt.dhsecret, "\0\0\0\0\0\0\0\0", "12345678" },
		{ "Invalid uint64 y", crypt.dhsecret, "12345678", "1" },
		{ "Invalid base64 text", crypt.base64decode, "Q" },
		{ "Invalid base64 text", crypt.base64decode, "QR==" },     -- low bits set
		{ "Invalid base64 text", crypt.base64decode, "Zm9v\n" },   -- as skynet: a group of nothing
		{ "Can't xor empty string", crypt.xor_str, "abc", "" },
		{ "bad argument #1", crypt.sha1, {} },
		{ "bad argument #2", crypt.hmac_sha1, "key", nil },
	}
	for _, c in ipairs(cases) do
		raises(c[1], table.unpack(c, 2))
	end
	-- skynet's decoder skips characters outside the alphabet and accepts a
	-- missing trailing '='
	eq(crypt.base64decode "Zm9v\nYmFy", "foobar", "base64 skips newline")
	eq(crypt.base64decode "Zm9vYg", "foob", "base64 missing padding")
	eq(crypt.base64decode "Zg==Zm8=", "ffo", "base64 groups after padding")
	return #cases + 3
end

function checks.behaviour(crypt)
	local n = 0
	-- randomkey: 8 bytes, never all zero (a DH key can't be 0), not constant
	local seen = {}
	for _ = 1, 200 do
		local k = crypt.randomkey()
		eq(#k, 8, "randomkey size")
		if k == "\0\0\0\0\0\0\0\0" then error("randomkey is 0") end
		crypt.dhexchange(k)
		seen[k] = true
	end
	local distinct = 0
	for _ in pairs(seen) do distinct = distinct + 1 end
	if distinct < 190 then error("randomkey repeats: " .. distinct .. " distinct of 200") end
	n = n + 1
	-- DH: both halves agree
	for _ = 1, 50 do
		local a, b = crypt.randomkey(), crypt.randomkey()
		eq(crypt.dhsecret(crypt.dhexchange(a), b), crypt.dhsecret(crypt.dhexchange(b), a), "dh agreement")
		n = n + 1
	end
	-- round trips at every length around the block sizes
	local key = crypt.randomkey()
	for len = 0, 40 do
		local s = string.rep("\xa5", len) .. string.char(len)
		eq(crypt.desdecode(key, crypt.desencode(key, s)), s, "des round trip " .. len)
		eq(crypt.desdecode(key, crypt.desencode(key, s, crypt.padding.pkcs7), crypt.padding.pkcs7), s, "des pkcs7 round trip " .. len)
		eq(#crypt.desencode(key, s), (#s + 8) & ~7, "des length " .. len)
		eq(crypt.base64decode(crypt.base64encode(s)), s, "base64 round trip " .. len)
		eq(crypt.hexdecode(crypt.hexencode(s)), s, "hex round trip " .. len)
		n = n + 5
	end
	-- hostile text into the decoders: a string or skynet's error, never
	-- anything else (what a login server feeds them comes from the network)
	local alphabet = "ABCZaz09+/=\n \0\x80\xff-_"
	for i = 1, 3000 do
		local t = {}
		for j = 1, (i % 37) do
			local p = (i * 31 + j * 17) % #alphabet + 1
			t[j] = alphabet:sub(p, p)
		end
		local text = table.concat(t)
		local rnd = string.pack("<i8", i * 0x9e3779b97f4a7c15):rep(1 + i % 4)
		for _, call in ipairs {
			{ "Invalid base64 text", crypt.base64decode, text },
			{ "Invalid hex text", crypt.hexdecode, text },
			{ "Invalid des crypt text", crypt.desdecode, key, rnd },
			{ "Invalid des crypt text", crypt.desdecode, key, rnd, crypt.padding.pkcs7 },
		} do
			local ok, r = pcall(table.unpack(call, 2))
			if ok then
				if type(r) ~= "string" then error("decoder returned " .. type(r)) end
			elseif not string.find(tostring(r), call[1], 1, true) then
				error("decoder error: " .. tostring(r))
			end
		end
		n = n + 1
	end
	-- hmac64_md5 is md5 of (a..b) three times with its halves XORed, so it
	-- agrees with sha1-free identities: two calls, same answer; x/y order matters
	local a, b = "abcdefgh", "12345678"
	eq(crypt.hmac64_md5(a, b), crypt.hmac64_md5(a, b), "hmac64_md5 deterministic")
	if crypt.hmac64(a, b) == crypt.hmac64(b, a) then error("hmac64 symmetric") end
	return n + 2
end

return checks
