-- skynet.sharemap — a record one service writes and others read, typed by a
-- sproto schema and carried by skynet.stm.
--
--   sharemap.register("types.sp")           -- once per node: the schema, slot 0
--   local w = sharemap.writer("T", { x = 0 })
--   w.x = 1; w:commit()                      -- publish the fields as they are now
--   skynet.call(svc, "lua", "init", "T", w:copy())
--   -- in svc:
--   local r = sharemap.reader("T", copy)     -- a read-only view of the last commit
--   r:update()                               -- take the newest commit, if any
--
-- A commit encodes the whole record (sproto) into a new stm version; a
-- reader's fields change only when it calls update(), so a handler sees one
-- consistent version however long it runs.  Field names "commit", "copy" and
-- "update" are taken by the methods.
local stm = require "skynet.stm"
local sprotoloader = require "sprotoloader"

local sharemap = {}

local SLOT = 0 -- the sprotoloader slot that holds sharemap's schema

function sharemap.register(protofile)
	sprotoloader.register(protofile, SLOT)
end

local schema -- loaded on first use in each service
local function get_schema()
	if not schema then
		schema = sprotoloader.load(SLOT)
	end
	return schema
end

local writer_methods = {}

function writer_methods.commit(w)
	local data = getmetatable(w).data
	w.__stm(get_schema():encode(w.__typename, data))
end

function writer_methods.copy(w)
	return stm.copy(w.__stm)
end

function sharemap.writer(typename, init)
	local data = init or {}
	local w = {
		__typename = typename,
		__stm = stm.new(get_schema():encode(typename, data)),
		commit = writer_methods.commit,
		copy = writer_methods.copy,
	}
	return setmetatable(w, { data = data, __index = data, __newindex = data })
end

-- stm read callback: decode the new version into the reader's own table
local function decode_into(msg, sz, r)
	local data = getmetatable(r).data
	for k in pairs(data) do
		data[k] = nil
	end
	get_schema():decode(r.__typename, msg, sz, data)
end

local function update(r)
	return (r.__stm(decode_into, r))
end

local function read_only(_, k)
	error("sharemap: field " .. tostring(k) .. " is read-only in a reader", 2)
end

function sharemap.reader(typename, copy)
	local r = {
		__typename = typename,
		__stm = stm.newcopy(copy),
		update = update,
	}
	local data = {}
	setmetatable(r, { data = data, __index = data, __newindex = read_only })
	update(r)
	return r
end

return sharemap
