-- cmemory — prints the C memory held by each service, the totals, and exits.
local skynet = require "skynet"
local memory = require "skynet.memory"

skynet.start(function()
	local info = memory.info()
	local handles = {}
	for h in pairs(info) do handles[#handles + 1] = h end
	table.sort(handles)
	for _, h in ipairs(handles) do
		print(string.format(":%08x %gK", h, info[h] / 1024))
	end
	print("Total memory:", memory.total())
	print("Total block:", memory.block())
	skynet.exit()
end)
