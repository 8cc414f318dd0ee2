-- crypt_client — the crypt checks in a stock lua5.4 interpreter, with
-- client.crypt loaded from luaclib/client.so the way skynet's clients do.
-- usage: lua5.4 crypt_client.lua LUACLIB_DIR VECTORS.lua
local luaclib, vectors = assert(arg[1], "luaclib dir"), assert(arg[2], "vectors file")
package.cpath = luaclib .. "/?.so;" .. package.cpath
package.path = arg[0]:match("(.*/)") .. "?.lua;" .. package.path

local crypt = require "client.crypt"
local socket = require "client.socket"
local checks = require "crypt_checks"

for _, name in ipairs { "connect", "recv", "send", "close", "usleep", "shutdown", "readstdin" } do
	assert(type(socket[name]) == "function", "client.socket." .. name)
end
local n = checks.published(crypt)
	+ checks.vectors(crypt, dofile(vectors))
	+ checks.errors(crypt)
	+ checks.behaviour(crypt)
print("CLIENT CRYPT PASS " .. n .. " cases")
