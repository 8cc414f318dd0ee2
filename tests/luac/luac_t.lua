-- luac_t — tiny assertion helpers for the tests/luac services.
-- A test logs "LUAC PASS <name>" or "LUAC FAIL <name>: why" and aborts the
-- node; run_luac.py judges the log.
local skynet = require "skynet"
require "skynet.manager"

local t = {}

function t.eq(a, b, what)
	if a ~= b then
		error(string.format("%s: got %s, want %s", what or "value", tostring(a), tostring(b)), 2)
	end
end

function t.ok(v, what)
	if not v then
		error((what or "check") .. " failed", 2)
	end
	return v
end

-- pcall f, require an error whose text matches pattern
function t.raises(pattern, f, ...)
	local ok, err = pcall(f, ...)
	if ok then
		error("expected an error matching " .. pattern, 2)
	end
	if not tostring(err):find(pattern) then
		error("error was: " .. tostring(err), 2)
	end
	return err
end

-- run body in the start function; report and stop the node
function t.run(name, body)
	skynet.start(function()
		local ok, err = xpcall(body, debug.traceback)
		if ok then
			skynet.error("LUAC PASS " .. name)
		else
			skynet.error("LUAC FAIL " .. name .. ": " .. tostring(err))
		end
		skynet.sleep(1) -- let the logger print
		skynet.abort()
	end)
end

return t
