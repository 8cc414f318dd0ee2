-- test_runner — the `start` service of a test node: launches the test named
-- by the `test_name` config key.  A test that can't even start fails here.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local name = assert(skynet.getenv "test_name", "no test_name in config")
	local ok, err = pcall(skynet.newservice, name)
	if not ok then
		io.stdout:write("TEST FAIL " .. name .. ": launch failed: " .. tostring(err) .. "\n")
		io.stdout:flush()
		skynet.sleep(5)
		skynet.abort()
	end
end)
