-- skynet.snax: services written as a file of accept/response methods, run by
-- the snaxd service.
--
--   snax.newservice(name, ...)     a new snaxd for `name`; init(...) runs before it returns
--   snax.uniqueservice(name, ...)  one per node (through .service, like skynet.uniqueservice)
--   snax.globalservice(name, ...)  one per harbor network
--   snax.queryservice(name) / snax.queryglobal(name)  wait for the unique/global one
--   snax.rawnewservice(name, ...) -> handle;  snax.bind(handle, name) -> object
--   snax.self(), snax.exit(...), snax.kill(obj, ...), snax.hotfix(obj, source, ...)
--   snax.interface(name) -> { name, accept = {m = id}, response = {...}, system = {...} }
--   snax.printf(fmt, ...), snax.profile_info(obj)
--
-- An object has obj.post.m(...) (send, no reply), obj.req.m(...) (call, returns
-- the method's results), obj.handle and obj.type.  Messages travel in the
-- "snax" protocol (PTYPE_SNAX) as skynet.pack(id, ...), id from the interface.
--
-- The interface of a file is learned by running its main chunk in an
-- environment where `require` does nothing (or the module named by the config
-- key `snax_interface_g`, which returns that environment), so its top level
-- must not need other modules.
local skynet = require "skynet"
local load_interface = require "snax.interface"

local snax = {}

skynet.register_protocol {
	name = "snax",
	id = skynet.PTYPE_SNAX,
	pack = skynet.pack,
	unpack = skynet.unpack,
}

local interface_env -- the environment interfaces are learned in
do
	local g = skynet.getenv "snax_interface_g"
	if g then
		interface_env = require(g)
	else
		interface_env = { require = function() end }
	end
end

local typeclass = {} -- name -> interface summary

function snax.interface(name)
	local t = typeclass[name]
	if t then
		return t
	end
	t = { name = name, accept = {}, response = {}, system = {} }
	for _, m in ipairs(load_interface(name, interface_env)) do
		local id, group, mname = m[1], m[2], m[3]
		t[group][mname] = id
	end
	typeclass[name] = t
	return t
end

local object_meta = {
	__tostring = function(obj)
		return string.format("[%s:%x]", obj.type, obj.handle)
	end,
}

-- obj.post / obj.req: indexing by a method name gives a function that
-- sends/calls it; a name the interface lacks is an error.
local function method_table(class, group, handle, verb, invoke)
	local ids = class[group]
	return setmetatable({}, {
		__index = function(_, mname)
			local id = ids[mname]
			if not id then
				error(string.format("%s %s:%s no exist", verb, class.name, tostring(mname)), 2)
			end
			return function(...)
				return invoke(handle, "snax", id, ...)
			end
		end,
	})
end

-- A post returns nothing (skynet.send itself returns the session number).
local function post(...)
	skynet.send(...)
end

local objects = setmetatable({}, { __mode = "kv" }) -- handle -> object

function snax.bind(handle, name)
	local obj = objects[handle]
	if obj then
		assert(obj.type == name, "handle already bound to another snax type")
		return obj
	end
	local class = snax.interface(name)
	obj = setmetatable({
		post = method_table(class, "accept", handle, "post", post),
		req = method_table(class, "response", handle, "request", skynet.call),
		type = name,
		handle = handle,
	}, object_meta)
	objects[handle] = obj
	return obj
end

function snax.rawnewservice(name, ...)
	local class = snax.interface(name)
	local handle = skynet.newservice("snaxd", name)
	skynet.call(handle, "snax", class.system.init, ...)
	return handle
end

function snax.newservice(name, ...)
	return snax.bind(snax.rawnewservice(name, ...), name)
end

local function from_service_mgr(cmd, name, ...)
	local handle = skynet.call(".service", "lua", cmd, "snaxd", name, ...)
	return snax.bind(assert(handle, "no snax service " .. name), name)
end

function snax.uniqueservice(name, ...)
	return from_service_mgr("LAUNCH", name, ...)
end

function snax.globalservice(name, ...)
	return from_service_mgr("GLAUNCH", name, ...)
end

function snax.queryservice(name)
	return from_service_mgr("QUERY", name)
end

function snax.queryglobal(name)
	return from_service_mgr("GQUERY", name)
end

function snax.kill(obj, ...)
	local class = snax.interface(obj.type)
	skynet.call(obj.handle, "snax", class.system.exit, ...)
end

function snax.self()
	return snax.bind(skynet.self(), SERVICE_NAME)
end

function snax.exit(...)
	snax.kill(snax.self(), ...)
end

local function hotfix_result(ok, ...)
	if not ok then
		error((...), 0)
	end
	return ...
end

function snax.hotfix(obj, source, ...)
	local class = snax.interface(obj.type)
	return hotfix_result(skynet.call(obj.handle, "snax", class.system.hotfix, source, ...))
end

function snax.printf(fmt, ...)
	skynet.error(string.format(fmt, ...))
end

function snax.profile_info(obj)
	local class = snax.interface(obj.type)
	return skynet.call(obj.handle, "snax", class.system.profile)
end

return snax
