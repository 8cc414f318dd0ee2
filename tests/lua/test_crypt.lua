-- skynet.crypt and md5 inside a service: published vectors, the vectors
-- crypt_vectors.py computed independently (config key crypt_vectors), error
-- texts, and what skynet's own crypt test script asserts.
local skynet = require "skynet"
local T = require "testlib"
local crypt = require "skynet.crypt"
local md5 = require "md5"
local checks = require "crypt_checks"

T.main("test_crypt", function()
	local vectors = assert(skynet.getenv "crypt_vectors", "no crypt_vectors in the config")
	local n = checks.published(crypt)
		+ checks.vectors(crypt, dofile(vectors))
		+ checks.errors(crypt)
		+ checks.behaviour(crypt)
	skynet.error("skynet.crypt: " .. n .. " cases")

	-- md5: RFC 1321 appendix A.5, HMAC-MD5 RFC 2202 section 2
	local rfc1321 = {
		[""] = "d41d8cd98f00b204e9800998ecf8427e",
		a = "0cc175b9c0f1b6a831c399e269772661",
		abc = "900150983cd24fb0d6963f7d28e17f72",
		["message digest"] = "f96b697d7cb7938d525a2f31aaf161d0",
		abcdefghijklmnopqrstuvwxyz = "c3fcd3d76192e4007dfb496cca67e13b",
		["12345678901234567890123456789012345678901234567890123456789012345678901234567890"] =
			"57edf4a22be3c955ac49da2e2107b67a",
	}
	for text, want in pairs(rfc1321) do
		T.eq(md5.sumhexa(text), want, "md5.sumhexa " .. text)
		T.eq(crypt.hexencode(md5.sum(text)), want, "md5.sum " .. text)
	end
	T.eq(md5.hmacmd5("Hi There", string.rep("\x0b", 16)), "9294727a3638bb1c13f48ef8158bfc9d", "hmacmd5 case 1")
	T.eq(md5.hmacmd5("what do ya want for nothing?", "Jefe"), "750c783e6ab0b503eaa86e310a5db738", "hmacmd5 case 2")
	T.eq(md5.hmacmd5("Test Using Larger Than Block-Size Key - Hash Key First", string.rep("\xaa", 80)),
		"6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd", "hmacmd5 case 6")
	T.eq(md5.exor("ab", "\1\1"), "`c", "md5.exor")
	T.raises("lengths must be equal", md5.exor, "ab", "a")
	-- skynet documents hmac64_md5 as md5 of (a..b) three times, halves XORed
	for _ = 1, 20 do
		local a, b = crypt.randomkey(), crypt.randomkey()
		local m = md5.sum((a .. b):rep(3))
		T.eq(crypt.hmac64_md5(a, b), crypt.xor_str(m:sub(1, 8), m:sub(9, 16)), "hmac64_md5 identity")
	end
end)
