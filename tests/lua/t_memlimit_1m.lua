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
	local loaded, refused = 0, 0
	for _, v in ipairs(names) do
		local lok, m = pcall(require, v)
		if lok then
			loaded = loaded + 1
		elseif string.find(tostring(m), "not enough memory", 1, true) then
			refused = refused + 1
		end
	end
	skynet.error(limit, err)
	skynet.send(tester, "lua", "result", limit, ok and "" or tostring(err), loaded, refused)
	skynet.exit()
end)
