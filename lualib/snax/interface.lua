-- snax.interface: runs the main chunk of a snax service file and lists the
-- methods it defines.
--
--   interface(name, G [, loader]) -> methods, pattern
--
-- The file is found through the `snax` config path (a ';' list of templates
-- with '?'; when the key is unset, `luaservice` is used instead).  `loader`,
-- when given, is called as loader(path, name, G) and returns the main chunk
-- and the template that matched.
--
-- While the chunk runs, G reads `accept` and `response` (tables whose
-- assignments declare methods) and catches assignments to the system names
-- init, exit, hotfix and profile.  Any other global the chunk assigns is set
-- in G once the chunk has finished.
--
-- methods[id] = { id, group, name, f }.  Ids 1..4 are always the system
-- entries (init, exit, hotfix, profile; f is nil when the file does not
-- define one); accept and response methods follow in the order the file
-- defines them.  That order is what a caller and the service agree on, so the
-- caller loads the same file to learn the ids.
local skynet = require "skynet"

local SYSTEM <const> = { "init", "exit", "hotfix", "profile" }
local system_id = {}
for id, name in ipairs(SYSTEM) do
	system_id[name] = id
end

local function find_file(path, name, G)
	local tried = {}
	for template in string.gmatch(path, "[^;]+") do
		local filename = string.gsub(template, "%?", function() return name end)
		local chunk, err = loadfile(filename, "bt", G)
		if chunk then
			return chunk, template
		end
		tried[#tried + 1] = err
	end
	error(string.format("snax service %s not found:\n%s", name, table.concat(tried, "\n")))
end

-- A table whose new keys become methods of one group.
local function declarer(methods, group)
	local seen = {}
	return setmetatable({}, {
		__newindex = function(_, name, f)
			if type(name) ~= "string" then
				error(string.format("%s method name must be a string, got %s", group, type(name)), 2)
			end
			if type(f) ~= "function" then
				error(string.format("%s.%s must be a function", group, name), 2)
			end
			if seen[name] then
				error(string.format("%s.%s is defined twice", group, name), 2)
			end
			seen[name] = true
			local id = #methods + 1
			methods[id] = { id, group, name, f }
		end,
	})
end

return function(name, G, loader)
	assert(type(name) == "string", "snax service name must be a string")
	assert(getmetatable(G) == nil, "snax environment must have no metatable")
	for _, reserved in ipairs { "init", "exit", "accept", "response" } do
		assert(G[reserved] == nil, "snax environment already has " .. reserved)
	end

	local methods = {}
	for id, sysname in ipairs(SYSTEM) do
		methods[id] = { id, "system", sysname }
	end

	local declared = {} -- globals the chunk assigns, moved into G afterwards
	local scope = setmetatable({
		accept = declarer(methods, "accept"),
		response = declarer(methods, "response"),
	}, { __index = declared })

	local path = skynet.getenv "snax" or skynet.getenv "luaservice"
	assert(path, "no snax path: set `snax` in the config file")
	local chunk, pattern = (loader or find_file)(path, name, G)

	setmetatable(G, {
		__index = scope,
		__newindex = function(_, key, value)
			local id = system_id[key]
			if id then
				if type(value) ~= "function" then
					error(key .. " must be a function", 2)
				end
				methods[id][4] = value
			else
				declared[key] = value
			end
		end,
	})
	local ok, err = xpcall(chunk, debug.traceback)
	setmetatable(G, nil)
	if not ok then
		error(err, 0)
	end
	for k, v in pairs(declared) do
		G[k] = v
	end
	return methods, pattern
end
