-- httptest_codec: http.wscore (SHA-1, base64, masking) against published
-- vectors and round trips, and http.url / http.internal helpers.
local wscore = require "http.wscore"
local url = require "http.url"
local internal = require "http.internal"
local T = require "httptest_lib"
local check = T.check

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

T.run("httptest_codec", function()
	-- FIPS 180 examples
	check(hex(wscore.sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d", "sha1 abc")
	check(hex(wscore.sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1 empty")
	check(hex(wscore.sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
		== "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "sha1 448 bits")
	check(hex(wscore.sha1(string.rep("a", 1000000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f", "sha1 million a")
	-- RFC 6455 §1.3's accept key
	check(wscore.base64encode(wscore.sha1("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		== "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "accept key")
	-- RFC 4648 §10
	local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==",
		fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
	for plain, coded in pairs(vectors) do
		check(wscore.base64encode(plain) == coded, "base64", plain)
		check(wscore.base64decode(coded) == plain, "unbase64", coded)
	end
	for n = 0, 70 do
		local s = wscore.randomkey(math.max(n, 1)):sub(1, n)
		check(wscore.base64decode(wscore.base64encode(s)) == s, "base64 round trip", n)
	end
	for _, bad in ipairs { "Zg=", "Zg==Zg==x", "Z===", "Zh==", "Zm9=", "Zm!v", "====" } do
		check(wscore.base64decode(bad) == nil, "bad base64 accepted", bad)
	end
	-- masking is its own inverse; offsets line the key up
	local key = "\1\2\3\4"
	local data = wscore.randomkey(200) .. "tail"
	check(wscore.mask(wscore.mask(data, key), key) == data, "mask twice")
	check(wscore.mask("\0\0\0\0\0", key) == "\1\2\3\4\1", "mask bytes")
	check(wscore.mask("\0\0", key, 2) == "\3\4", "mask offset")
	check(not pcall(wscore.mask, "x", "abc"), "a 3-byte key")
	check(#wscore.randomkey(16) == 16 and wscore.randomkey(16) ~= wscore.randomkey(16), "randomkey")
	-- url
	local path, query = url.parse("/a%20b/c?x=1&y=%41+B&x=2&flag#frag")
	check(path == "/a b/c" and query == "x=1&y=%41+B&x=2&flag", "url.parse", path, query)
	local q = url.parse_query(query)
	check(q.y == "A B" and q.x[1] == "1" and q.x[2] == "2" and q.flag == "", "parse_query")
	check(url.encode("a b/é") == "a%20b%2F%C3%A9" and url.decode(url.encode("a b/é")) == "a b/é", "url.encode")
	-- keep-alive rules
	check(internal.keepalive({}, 1.1) and not internal.keepalive({ connection = "close" }, 1.1), "1.1")
	check(not internal.keepalive({}, 1.0) and internal.keepalive({ connection = "Keep-Alive" }, 1.0), "1.0")
	-- frames out and back
	local frame = internal.ws_frame("binary", string.rep("z", 70000), true, key, wscore.mask)
	local pos = 1
	local function read(n)
		local s = frame:sub(pos, pos + n - 1)
		pos = pos + n
		return s
	end
	local fin, op, payload = internal.ws_read_frame(read, true, 1 << 20, wscore.mask)
	check(fin and op == "binary" and payload == string.rep("z", 70000), "frame round trip")
end)
