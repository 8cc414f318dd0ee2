-- Shared by the cluster test drivers: checks that print one verdict line.
local skynet = require "skynet"
require "skynet.manager"

local M = {}

function M.check(cond, ...)
	if not cond then
		error(table.concat({ "check failed:", ... }, " "), 2)
	end
	return cond
end

function M.fails(prefix, f, ...)
	local ok, err = pcall(f, ...)
	M.check(not ok, "expected an error starting with", prefix)
	err = tostring(err)
	M.check(err:sub(1, #prefix) == prefix, "error was:", err, "expected:", prefix)
	return err
end

function M.now()
	return skynet.now() / 100
end

-- Runs body in a protected call and prints the verdict for the harness.
function M.run(name, body)
	skynet.start(function()
		local ok, err = xpcall(body, debug.traceback)
		if ok then
			skynet.error("CLTEST PASS " .. name)
		else
			skynet.error("CLTEST FAIL " .. name .. ": " .. tostring(err))
		end
	end)
end

return M
