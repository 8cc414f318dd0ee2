-- t_codecache_names — reports what a service sees of the runtime's Lua library
-- loaded through the code cache: error positions, upvalue and local names.
local skynet = require "skynet"

local function upvalue_names(f)
	local names = {}
	for i = 1, 255 do
		local name = debug.getupvalue(f, i)
		if name == nil then break end
		names[#names + 1] = name
	end
	return table.concat(names, " ")
end

skynet.start(function()
	skynet.dispatch("lua", function()
		local own = 1
		local ok, err = pcall(skynet.call, skynet.self(), "no such protocol")
		skynet.retpack({
			call_ok = ok,
			call_error = tostring(err),
			ret_upvalues = upvalue_names(skynet.ret),
			call_param = debug.getlocal(skynet.call, 1) or false,
			own_local = debug.getlocal(1, 1) or false,
			own_value = own,
		})
	end)
end)
