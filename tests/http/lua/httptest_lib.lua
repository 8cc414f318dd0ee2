-- httptest_lib: check() and run() for the self-checking HTTP tests: run(fn)
-- starts the service, runs fn and prints HTTPTEST PASS, or HTTPTEST FAIL with
-- the first failed check.
local skynet = require "skynet"

local T = {}

function T.check(cond, ...)
	if not cond then
		local parts = table.pack(...)
		for i = 1, parts.n do
			parts[i] = tostring(parts[i])
		end
		error("check failed: " .. table.concat(parts, " "), 2)
	end
	return cond
end

-- The error fn raises, or a failed check.
function T.raises(fn, pattern)
	local ok, err = pcall(fn)
	T.check(not ok, "no error, expected /" .. pattern .. "/")
	T.check(tostring(err):find(pattern), "error", tostring(err), "does not match", pattern)
	return tostring(err)
end

function T.run(fn)
	skynet.start(function()
		local ok, err = xpcall(fn, debug.traceback)
		if ok then
			skynet.error("HTTPTEST PASS")
		else
			skynet.error("HTTPTEST FAIL " .. tostring(err))
		end
	end)
end

return T
