-- sproto: sproto schemas and messages, and the RPC host built on them.
--
-- Same API as skynet's module: sproto.new / sharenew / parse, sp:encode /
-- decode / pencode / pdecode / default / exist_type / exist_proto /
-- queryproto / request_encode / response_encode / request_decode /
-- response_decode, sproto.pack / unpack, sp:host(package) with
-- host:dispatch and host:attach. The codec is sproto.core (lua-sproto.c).
--
-- RPC packets: a `package` struct (type = protocol tag, session, ud)
-- followed by the request or response struct, the two 0-packed together.
-- A packet with a type is a request; one without is the response to its
-- session.
local core = require "sproto.core"

local sproto = {}
local object = {}
local object_mt = { __index = object }
local host = {}
local host_mt = { __index = host }

-- A sproto made by sproto.new owns its schema and drops it when collected;
-- one made by sharenew only holds a reference (the schema handle's own
-- finaliser releases it).
local owning_mt = {
	__index = object,
	__gc = function(self)
		core.deleteproto(self.__cobj)
	end,
}

local function wrap(cobj, mt)
	return setmetatable({
		__cobj = cobj,
		__tcache = setmetatable({}, { __mode = "kv" }),
		__pcache = setmetatable({}, { __mode = "kv" }),
	}, mt)
end

function sproto.new(bin)
	local cobj, err = core.newproto(bin)
	if not cobj then
		error(err, 2)
	end
	return wrap(cobj, owning_mt)
end

function sproto.sharenew(cobj)
	return wrap(cobj, object_mt)
end

function sproto.parse(text)
	local parser = require "sprotoparser"
	return sproto.new(parser.parse(text))
end

local function querytype(self, name)
	local st = self.__tcache[name]
	if st == nil then
		st = core.querytype(self.__cobj, name)
		if st == nil then
			error("type not found: " .. tostring(name), 3)
		end
		self.__tcache[name] = st
	end
	return st
end

-- The protocol named (or tagged) pname: { name, tag, request, response },
-- cached under both its name and its tag.
local function queryproto(self, pname)
	local p = self.__pcache[pname]
	if p == nil then
		local id, request, response = core.protocol(self.__cobj, pname)
		if id == nil then
			error(tostring(pname) .. " not found", 3)
		end
		local name, tag = pname, id
		if type(pname) == "number" then
			name, tag = id, pname
		end
		p = { name = name, tag = tag, request = request, response = response }
		self.__pcache[name] = p
		self.__pcache[tag] = p
	end
	return p
end
object.queryproto = queryproto

function object:host(packagename)
	packagename = packagename or "package"
	local package = core.querytype(self.__cobj, packagename)
	if package == nil then
		error("type " .. packagename .. " not found", 2)
	end
	return setmetatable({ __proto = self, __package = package, __session = {} }, host_mt)
end

function object:exist_type(name)
	return self.__tcache[name] ~= nil or core.querytype(self.__cobj, name) ~= nil
end

function object:exist_proto(pname)
	return self.__pcache[pname] ~= nil or core.protocol(self.__cobj, pname) ~= nil
end

function object:encode(name, t)
	return core.encode(querytype(self, name), t)
end

function object:decode(name, ...)
	return core.decode(querytype(self, name), ...)
end

function object:pencode(name, t)
	return core.pack(core.encode(querytype(self, name), t))
end

function object:pdecode(name, ...)
	return core.decode(querytype(self, name), core.unpack(...))
end

function object:request_encode(pname, t)
	local p = queryproto(self, pname)
	if p.request then
		return core.encode(p.request, t), p.tag
	end
	return "", p.tag
end

function object:response_encode(pname, t)
	local p = queryproto(self, pname)
	if p.response then
		return core.encode(p.response, t)
	end
	return ""
end

function object:request_decode(pname, ...)
	local p = queryproto(self, pname)
	if p.request then
		return core.decode(p.request, ...), p.name
	end
	return nil, p.name
end

function object:response_decode(pname, ...)
	local p = queryproto(self, pname)
	if p.response then
		return core.decode(p.response, ...)
	end
end

-- default(typename): the type's fields at their defaults;
-- default(protoname, "REQUEST" | "RESPONSE"): the same for a protocol's part.
function object:default(name, part)
	if part == nil then
		return core.default(querytype(self, name))
	end
	local p = queryproto(self, name)
	if part == "REQUEST" then
		if p.request then
			return core.default(p.request)
		end
	elseif part == "RESPONSE" then
		if p.response then
			return core.default(p.response)
		end
	else
		error("Invalid type", 2)
	end
end

sproto.pack = core.pack
sproto.unpack = core.unpack

-- A reused header table: dispatch and attach run to completion before the
-- next call, so one table per module is enough.
local header = {}

local function packet(package, type, session, ud, content_type, content)
	header.type = type
	header.session = session
	header.ud = ud
	local head = core.encode(package, header)
	if content_type then
		return core.pack(head .. core.encode(content_type, content))
	end
	return core.pack(head)
end

-- host:dispatch(msg[, sz]) ->
--   "REQUEST", name, request, response function (nil without session), ud
--   "RESPONSE", session, response, ud
function host:dispatch(...)
	local bin = core.unpack(...)
	header.type, header.session, header.ud = nil, nil, nil
	local _, used = core.decode(self.__package, bin, header)
	local type, session, ud = header.type, header.session, header.ud
	local content = bin:sub(used + 1)
	if type then
		local p = queryproto(self.__proto, type)
		local request
		if p.request then
			request = core.decode(p.request, content)
		end
		if session == nil then
			return "REQUEST", p.name, request, nil, ud
		end
		local package, response = self.__package, p.response
		return "REQUEST", p.name, request, function(args, rud)
			return packet(package, nil, session, rud, response, args)
		end, ud
	end
	if session == nil then
		error("session not found", 2)
	end
	local response = self.__session[session]
	if response == nil then
		error("Unknown session", 2)
	end
	self.__session[session] = nil
	if response == true then
		return "RESPONSE", session, nil, ud
	end
	return "RESPONSE", session, core.decode(response, content), ud
end

-- host:attach(sp) -> function(name, args, session, ud) returning the packed
-- request; with a session, the response type is remembered for dispatch.
function host:attach(sp)
	local package = self.__package
	local sessions = self.__session
	return function(name, args, session, ud)
		local p = queryproto(sp, name)
		if session then
			sessions[session] = p.response or true
		end
		return packet(package, p.tag, session, ud, p.request, args)
	end
end

return sproto
