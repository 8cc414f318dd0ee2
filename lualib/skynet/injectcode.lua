-- skynet.injectcode — reach the upvalues of a running service's functions, so
-- injected code (debug RUN) can read and patch its state.
local M = {}

-- A table view of f's upvalues: reading a name gets the upvalue, writing sets
-- it.  Functions among them get their own view under `<name>` via fn_upvalues.
function M.upvalues(f)
	local index = {}
	local i = 1
	while true do
		local name = debug.getupvalue(f, i)
		if name == nil then break end
		index[name] = i
		i = i + 1
	end
	return setmetatable({}, {
		__index = function(_, name)
			local idx = index[name]
			if idx then
				local _, value = debug.getupvalue(f, idx)
				return value
			end
		end,
		__newindex = function(_, name, value)
			local idx = assert(index[name], "no such upvalue")
			debug.setupvalue(f, idx, value)
		end,
		__pairs = function()
			local names = {}
			for k in pairs(index) do names[#names + 1] = k end
			table.sort(names)
			local j = 0
			return function()
				j = j + 1
				local k = names[j]
				if k then
					local _, v = debug.getupvalue(f, index[k])
					return k, v
				end
			end
		end,
	})
end

return M
