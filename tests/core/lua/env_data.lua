-- env_data — checks what tests/core/configs/env_data.conf put in the env
-- (read back with skynet.getenv) against the environment it was given, then
-- stops the node.  Prints ENVDATA OK or ENVDATA FAIL <why>.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local evil = os.getenv "SKIFF_TEST_EVIL"
	local function check(key, want)
		local got = skynet.getenv(key)
		if got ~= want then
			error(string.format("%s = %q, want %q", key, tostring(got), tostring(want)), 0)
		end
	end
	local ok, err = pcall(function()
		assert(evil and evil:find('"') and evil:find("]]") and evil:find("\n"), "SKIFF_TEST_EVIL is not hostile enough")
		check("thread", "2")
		check("threads_plus_one", "3")
		check("threads_is_two", "true")
		check("negative", "5")
		check("flag", "false")
		check("evil_code", evil)
		check("evil_quoted", "<" .. evil .. ">")
		check("evil_single", evil)
		check("evil_long", evil)
		-- the value tries to assign these; as data it assigns nothing
		check("pwned", nil)
		check("pwned2", nil)
		-- line numbers of the file are those the author sees
		check("line_after", "19")
	end)
	if ok then
		print "ENVDATA OK"
	else
		print("ENVDATA FAIL " .. tostring(err))
	end
	skynet.abort()
end)
