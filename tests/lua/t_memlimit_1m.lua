-- t_memlimit_1m — skynet's test/testmemlimit.lua as a Skiff service: a 1 MiB
-- limit set in the main chunk, then 12,355 empty tables and eight library
-- requires under pcall in the start function, then exit.  Instead of only
-- logging, it sends what happened to the tester (its first argument).
local skynet = require "skynet"

local tester = tonumber(...)
local names = {
	"cluster",
	"skynet.db.dns",
	"skynet.db.mongo",
	"skynet.db.mysql",
	"skynet.db.redis",
	"sharedata",
	"skynet.socket",
	"sproto",
}

-- the limit counts from here: it must be set before skynet.start
skynet.memlimit(1 * 1024 * 1024)

skynet.start(function()
	local a = {}
	local limit
	local ok, err = pcall(function()
		for i = 1, 12355 do
			limit = i
			table.insert(a, {})
		end
	end)
	-- As on skynet, some names are not modules here (skynet's list, Skiff's
	-- paths).  How many of the others fit depends on the bytes already in use
	-- (paths, chunk names), so that count varies between machines; what must
	-- hold is that each require loads, is not found, or fails with a memory error.
	local loaded, refused, other = 0, 0, {}
	for _, v in ipairs(names) do
		local lok, m = pcall(require, v)
		if lok or string.find(tostring(m), "module '" .. v .. "' not found", 1, true) then
			loaded = loaded + 1
		elseif string.find(tostring(m), "not enough memory", 1, true) then
			refused = refused + 1
		else
			other[#other + 1] = v .. ": " .. tostring(m)
		end
	end
	-- and the limit holds: 2 MiB more cannot be had, whatever the requires left
	local bok, berr = pcall(string.rep, "x", 2 * 1024 * 1024)
	skynet.error(limit, err)
	a = nil -- room for the report
	collectgarbage()
	local big = bok and "allocated" or tostring(berr)
	skynet.send(tester, "lua", "result", limit, ok and "" or tostring(err), loaded, refused,
		table.concat(other, "; "), big)
	skynet.exit()
end)
