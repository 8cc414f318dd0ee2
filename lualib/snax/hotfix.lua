-- snax.hotfix: replaces methods of a running snax service with the ones in a
-- patch source, keeping the service's state.
--
--   hotfix(methods, source, ...) -> true, results of the patch's hotfix(...)
--                                 | false, error
--
-- `methods` is the table snax.interface returned for the service; the patch
-- is a snax file too.  Every method the patch defines (accept, response, and
-- the system ones) replaces the service's method of the same group and name;
-- a method the service does not have is an error and nothing is replaced.
--
-- State: a patch declares the service's locals it uses as locals of its own
-- (`local i`) and leaves them nil.  Every nil upvalue of a patched function
-- (and of the local functions it refers to) is joined, by name, to the
-- upvalue of that name in the service's methods, so it reads and writes the
-- service's variable; `_ENV` is joined the same way, so globals are the
-- service's.  A name that stands for two different variables in the service
-- is ambiguous and refused.  Finally the patch's own `hotfix` function, if it
-- has one, runs with the extra arguments and its results are returned.
local load_interface = require "snax.interface"

-- The upvalue slot that holds _ENV in f, as an upvalueid, or nil.
local function env_of(f)
	local i = 1
	while true do
		local name = debug.getupvalue(f, i)
		if name == nil then
			return nil
		elseif name == "_ENV" then
			return debug.upvalueid(f, i)
		end
		i = i + 1
	end
end

-- visit(index, name, value) for each upvalue of f, unless f was visited
-- already (the walks below recurse through functions that share upvalues).
local function each_upvalue(f, visited, visit)
	if visited[f] then
		return
	end
	visited[f] = true
	local i = 1
	while true do
		local name, value = debug.getupvalue(f, i)
		if name == nil then
			return
		end
		visit(i, name, value)
		i = i + 1
	end
end

-- name -> { f, index, id } for every upvalue reachable from f through
-- functions that share f's environment.
local function gather(f, env, found, visited)
	each_upvalue(f, visited, function(i, name, value)
		local id = debug.upvalueid(f, i)
		local slot = found[name]
		if slot == nil then
			found[name] = { f, i, id }
		elseif slot[3] ~= id then
			error(string.format("ambiguous local %s: the service has two variables of that name", name))
		end
		if type(value) == "function" and env_of(value) == env then
			gather(value, env, found, visited)
		end
	end)
end

local function service_upvalues(methods)
	local found, visited = {}, {}
	for _, m in ipairs(methods) do
		local f = m[4]
		if f then
			gather(f, env_of(f), found, visited)
		end
	end
	if found._ENV == nil then
		-- no method uses a global: join _ENV to the service's globals
		local function globals() return _ENV end
		found._ENV = { globals, 1, debug.upvalueid(globals, 1) }
	end
	return found
end

local function find(methods, group, name)
	for _, m in ipairs(methods) do
		if m[2] == group and m[3] == name then
			return m
		end
	end
end

-- Joins f's nil upvalues (and its _ENV, which is the patch's scratch
-- environment `penv`) to the service's; recurses into the patch's own
-- local functions.
local function rebind(f, found, penv, visited)
	each_upvalue(f, visited, function(i, name, value)
		if value == nil or value == penv then
			local slot = found[name]
			if slot then
				debug.upvaluejoin(f, i, slot[1], slot[2])
			end
		elseif type(value) == "function" then
			rebind(value, found, penv, visited)
		end
	end)
end

local function apply(methods, source, ...)
	-- The patch runs in a scratch copy of the globals: its top level can use
	-- them, and its functions' _ENV is later joined to the service's.
	local penv = {}
	for k, v in pairs(_G) do
		penv[k] = v
	end
	local function from_source(_, _, G)
		local chunk, err = load(source, "=patch", "bt", G)
		if not chunk then
			error(err, 0)
		end
		return chunk, "patch"
	end
	local patch = load_interface("patch", penv, from_source)
	local found = service_upvalues(methods)

	-- check everything before changing anything
	local targets = {}
	for _, m in ipairs(patch) do
		if m[4] then
			local target = find(methods, m[2], m[3])
			if not target then
				error(string.format("patch mismatch: the service has no %s.%s", m[2], m[3]))
			end
			targets[#targets + 1] = { target, m[4] }
		end
	end
	local visited = {}
	for _, t in ipairs(targets) do
		rebind(t[2], found, penv, visited)
	end
	for _, t in ipairs(targets) do
		t[1][4] = t[2]
	end

	local hf = patch[3] -- the system "hotfix" entry
	assert(hf[2] == "system" and hf[3] == "hotfix")
	if hf[4] then
		return hf[4](...)
	end
end

return function(methods, source, ...)
	return pcall(apply, methods, source, ...)
end
