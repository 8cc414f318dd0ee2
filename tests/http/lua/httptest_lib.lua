-- httptest_lib: testlib (tests/testlib.lua, the one assertion library) for the
-- self-checking HTTP tests, whose runner (run_http.py) reads the verdict
-- "HTTPTEST PASS <name>" or "HTTPTEST FAIL <name>: why"; and the port of the
-- peer server the runner started (config key httptest_peer_port).
local skynet = require "skynet"

local T = require("testlib").suite("HTTPTEST")

function T.peer_port()
	return assert(tonumber(skynet.getenv "httptest_peer_port"), "no httptest_peer_port in the config")
end

return T
