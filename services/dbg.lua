-- dbg — runs the .launcher command given as arguments (e.g. `dbg list`),
-- prints the result, and exits.
local skynet = require "skynet"

local args = table.pack(...)

local function format_value(v)
	if type(v) ~= "table" then
		return tostring(v)
	end
	local keys = {}
	for k in pairs(v) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	local parts = {}
	for _, k in ipairs(keys) do
		parts[#parts + 1] = string.format("%s:%s", tostring(k), tostring(v[k]))
	end
	return table.concat(parts, "\t")
end

skynet.start(function()
	assert(args.n >= 1, "usage: dbg COMMAND [args...]")
	local cmd = string.upper(args[1])
	local result = skynet.call(".launcher", "lua", cmd, table.unpack(args, 2, args.n))
	if type(result) == "table" then
		local keys = {}
		for k in pairs(result) do keys[#keys + 1] = k end
		table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
		for _, k in ipairs(keys) do
			print(tostring(k), format_value(result[k]))
		end
	else
		print(tostring(result))
	end
	skynet.exit()
end)
