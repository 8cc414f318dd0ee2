-- skynet.inject — run code inside a live service (debug RUN).
-- The code runs with a fresh environment falling back to _G, plus:
--   _U   upvalues of the service's message dispatcher;
--   _P   for each protocol name, the upvalues of its dispatch function;
--   print  collected into the returned output instead of the log.
local injectcode = require "skynet.injectcode"

return function(skynet, source, filename, args, dispatcher, register_protocol)
	local output = {}
	local function print(...)
		local n = select("#", ...)
		local line = {}
		for i = 1, n do
			line[i] = tostring((select(i, ...)))
		end
		output[#output + 1] = table.concat(line, "\t")
	end
	local protocols = {}
	for name, class in pairs(skynet._proto) do
		if type(name) == "string" and class.dispatch then
			protocols[name] = injectcode.upvalues(class.dispatch)
		end
	end
	local env = setmetatable({
		print = print,
		_U = dispatcher and injectcode.upvalues(dispatcher) or {},
		_P = protocols,
		register_protocol = register_protocol,
	}, { __index = _G })
	local f, err = load(source, "=" .. (filename or "inject"), "t", env)
	if not f then
		return false, { err }
	end
	local ok, e = xpcall(f, debug.traceback, table.unpack(args or {}, 1, args and args.n or 0))
	if not ok then
		output[#output + 1] = tostring(e)
	end
	return ok, output
end
