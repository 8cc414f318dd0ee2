-- skynet.db.mysql's login arithmetic and packet framing, without a server.
--
-- MariaDB (the server the other test runs) has no caching_sha2_password and
-- Debian ships no MySQL server, so that plugin is checked here:
--  * SHA-256 against FIPS 180-2's vectors;
--  * the scramble XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) .. nonce)) against
--    vectors computed once with Python's hashlib, and by doing what the
--    server does with it: unmask with the stored SHA256(SHA256(pw)) and the
--    nonce, and find SHA256(pw) again;
--  * mysql_native_password the same way, against the published stored hash
--    of 'password' (*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19);
--  * the full path's RSA-OAEP: a key made by the openssl command, the
--    ciphertext decrypted by `openssl pkeyutl` (SPKI and PKCS#1 key forms);
--  * packets of 16 MiB - 1 and more split and joined as the protocol says.
local skynet = require "skynet"
local mysql = require "skynet.db.mysql"
local crypt = require "skynet.crypt"
local aux = require "skynet.db.mysql.aux"
local T = require "testlib"

local wire = mysql._wire
local hex = crypt.hexencode

local function unhex(s) return crypt.hexdecode(s) end

local function sh(cmd)
	local f = assert(io.popen(cmd .. " 2>&1"))
	local out = f:read "a"
	local ok = f:close()
	T.ok(ok, cmd .. ": " .. out)
	return out
end

local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read "a"
	f:close()
	return s
end

-- a fake socket over a string: read(n) raises past the end, as the channel's does
local function fake(data)
	local pos = 1
	return {
		read = function(_, n)
			if pos + n - 1 > #data then error("end of data", 0) end
			local s = data:sub(pos, pos + n - 1)
			pos = pos + n
			return s
		end,
		left = function() return #data - pos + 1 end,
	}
end

T.main("test_mysql_auth", function()
	-- SHA-256 (FIPS 180-2 appendix B)
	T.eq(hex(aux.sha256 "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc")
	T.eq(hex(aux.sha256 ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 empty")
	T.eq(hex(aux.sha256 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 two blocks")

	-- caching_sha2_password scramble (vectors from Python's hashlib)
	local n1 = string.char(table.unpack((function() local t = {} for i = 1, 20 do t[i] = i end return t end)()))
	local n2 = "abcdefghijklmnopqrst"
	local vectors = {
		{ "secret", "746ebe205d56a0707acb3e796e834e0dd7b1d61743b26bd5202c7a623230c7c9",
			"c76e2898612a4cf042c77fa8c4702c4c64c0c2c557c53c4d75595aaa6abae809",
			"b32bb3a583e1340c0a1108d58b1be49781ad8c2f" },
		{ "n4tive pw", "4a750820ef644dcbebf1c58172bd9c50ff0cf74b096a221f3fa0fcde93368d52",
			"5c5fdfdf7705bb939821495f443bf4aadefe84930771c93aaf5af494564563c5",
			"17b7e0989dee1d089ee3551324756d36d7989f40" },
		{ "pässwörd", "8526563d365f5cb2cf44b162e5251a5cc348e1a1afeec271669611d0fdac23f7",
			"c2f2b3d19aa93ee5d0629e3ec103da650b3d52d906618d526498606d78c7505b",
			"9891a8536587af22d12e126cf5f7a8ea86d63b0e" },
	}
	for _, v in ipairs(vectors) do
		T.eq(hex(wire.sha2_token(v[1], n1)), v[2], "sha2 scramble of " .. v[1])
		T.eq(hex(wire.sha2_token(v[1], n2)), v[3], "sha2 scramble of " .. v[1] .. ", second nonce")
		T.eq(hex(wire.native_token(v[1], n1)), v[4], "native scramble of " .. v[1])
		-- the server's side: stored = SHA256(SHA256(pw)); unmask, hash once, compare
		local stored = aux.sha256(aux.sha256(v[1]))
		local tok = wire.sha2_token(v[1], n2)
		local stage1 = crypt.xor_str(tok, aux.sha256(stored .. n2))
		T.eq(aux.sha256(stage1), stored, "server verifies the sha2 scramble of " .. v[1])
	end
	-- mysql_native_password: the server stores SHA1(SHA1(pw)), published for 'password'
	local stored = crypt.sha1(crypt.sha1 "password")
	T.eq(hex(stored), "2470c0c06dee42fd1618bb99005adca2ec9d1e19", "PASSWORD('password')")
	local tok = wire.native_token("password", n2)
	local stage1 = crypt.xor_str(tok, crypt.sha1(n2 .. stored))
	T.eq(crypt.sha1(stage1), stored, "server verifies the native scramble")

	-- RSA-OAEP for the full path, checked by the openssl command
	local dir = sh("mktemp -d"):gsub("%s+$", "")
	sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " .. dir .. "/key.pem")
	sh("openssl pkey -in " .. dir .. "/key.pem -pubout -out " .. dir .. "/pub.pem")
	sh("openssl rsa -in " .. dir .. "/key.pem -RSAPublicKey_out -out " .. dir .. "/pub1.pem")
	local nonce = "0123456789abcdefghij"
	local plain = crypt.xor_str("my sécret\0", nonce)
	for _, form in ipairs { "pub.pem", "pub1.pem" } do
		local ct = aux.rsa_oaep_encrypt(slurp(dir .. "/" .. form), plain)
		T.eq(#ct, 256, "a 2048-bit ciphertext")
		local f = assert(io.open(dir .. "/ct", "wb"))
		f:write(ct)
		f:close()
		sh("openssl pkeyutl -decrypt -inkey " .. dir .. "/key.pem -pkeyopt rsa_padding_mode:oaep -in "
			.. dir .. "/ct -out " .. dir .. "/pt")
		T.eq(crypt.xor_str(slurp(dir .. "/pt"), nonce), "my sécret\0", "openssl decrypts what we sent (" .. form .. ")")
	end
	T.raises("not an RSA public key", aux.rsa_oaep_encrypt, "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n", "x")
	T.raises("not an RSA public key", aux.rsa_oaep_encrypt, "", "x")
	T.raises("rsa_oaep_encrypt", aux.rsa_oaep_encrypt, slurp(dir .. "/pub.pem"), string.rep("x", 300))
	sh("rm -r " .. dir)

	-- framing: < 16 MiB - 1 is one packet; exactly 16 MiB - 1 needs an empty one after
	local small = wire.compose("hello", 3)
	T.eq(small, "\5\0\0\3hello", "one packet with its sequence id")
	local exact = string.rep("e", 0xffffff)
	local w = wire.compose(exact, 0)
	T.eq(#w, 0xffffff + 8, "two headers")
	T.eq(w:sub(-4), "\0\0\0\1", "then an empty packet, sequence 1")
	local big = string.rep("b", 0xffffff * 2 + 10)
	w = wire.compose(big, 255)
	T.eq(#w, #big + 12, "three packets")
	T.eq(w:byte(4), 255, "first sequence id")
	T.eq(w:byte(0xffffff + 8), 0, "sequence ids wrap at 256")
	for _, payload in ipairs { "", "x", exact, big } do
		local s = fake(wire.compose(payload, 0))
		local got = wire.read_packet(s)
		T.ok(got == payload, "read back a payload of " .. #payload)
		T.eq(s.left(), 0, "nothing left over")
	end

	-- replies: OK, ERR, a result set, a broken one
	local function packets(...)
		local out = {}
		for i, p in ipairs { ... } do out[i] = wire.compose(p, i) end
		return table.concat(out)
	end
	local ok = wire.read_results(fake(packets "\0\3\x05\2\0\1\0hi"))
	T.same(ok, { affected_rows = 3, insert_id = 5, server_status = 2, warning_count = 1, message = "hi" }, "OK packet")
	local err = wire.read_results(fake(packets "\xff\x7a\x04#42S02no such table"))
	T.same(err, { badresult = true, errno = 1146, sqlstate = "42S02", err = "no such table" }, "ERR packet")
	local col = "\3def\0\0\0\1a\0\x0c\x21\0\x0b\0\0\0\3\0\0\0\0\0"
	local rows = wire.read_results(fake(packets("\1", col, "\xfe\0\0\2\0", "\x015", "\xfb", "\xfe\0\0\2\0")))
	T.same(rows, { { a = 5 }, {} }, "a result set with a NULL")
	T.raises("mysql: malformed reply", wire.read_results, fake(packets("\1", col, "\xfe\0\0\2\0", "\0105")))
	T.raises("mysql: malformed reply", wire.read_results, fake(packets("\1", "\3de")))
	T.raises("end of data", wire.read_results, fake(packets("\1", col)))
	skynet.error("mysql auth and framing checks done")
end)
