-- skynet.sharetable: read-only tables loaded once per node and read by any
-- number of services without a private copy each.
--
--   sharetable.loadfile(filename, ...)        the file's chunk (given ...) returns the table
--   sharetable.loadstring(name, source, ...)  so does the source
--   sharetable.loadtable(name, tbl)
--   local t = sharetable.query(name)          the table (nil if never loaded)
--   local all = sharetable.queryall({names}) / queryall()   name -> table
--   sharetable.update(name, ...)              this service switches to the latest loads
--
-- The data lives once in C memory (skynet.sharebox); a service sees it
-- through read-only proxies that keep what it has read.  A load replaces the
-- data for later queries; a service that already holds the tables sees the
-- new data after sharetable.update, in the tables it already holds.
local reader = require "skynet.sharebox_reader"

local sharebox = require "skynet.sharebox"

-- name -> the latest box this service has and its version; older boxes stay
-- alive as long as tables of them are held (weak list), for update().
local latest, versions, older = {}, {}, {}
local sharetable = {}

function sharetable.loadfile(filename, ...)
	reader.call("load", "sharetable", filename, "file", filename, ...)
end

function sharetable.loadstring(name, source, ...)
	reader.call("load", "sharetable", name, "source", source, ...)
end

function sharetable.loadtable(name, tbl)
	assert(type(tbl) == "table", "sharetable.loadtable needs a table")
	reader.call("load", "sharetable", name, "table", tbl)
end

-- The latest version of name: tables queried before a reload keep their data
-- until update(name).
function sharetable.query(name)
	local h, v = reader.call("query", "sharetable", name)
	if h == nil then
		return nil
	end
	local box = sharebox.open(h)
	local cur = latest[name]
	if cur and versions[name] == v then
		return sharebox.root(cur) -- the same data: the reference in `box` goes with it
	end
	if cur then
		local list = older[name]
		if list == nil then
			list = setmetatable({}, { __mode = "v" })
			older[name] = list
		end
		list[#list + 1] = cur
	end
	latest[name], versions[name] = box, v
	return sharebox.root(box)
end

function sharetable.queryall(names)
	names = names or reader.call("names", "sharetable")
	local all = {}
	for _, name in ipairs(names) do
		all[name] = sharetable.query(name)
	end
	return all
end

-- Every table of these names this service holds now shows the latest data.
function sharetable.update(...)
	for i = 1, select("#", ...) do
		local name = select(i, ...)
		sharetable.query(name)
		local cur, list = latest[name], older[name]
		if cur and list then
			for j = 1, #list do
				local old = list[j]
				if old then
					sharebox.repoint(old, cur)
				end
			end
			older[name] = nil
		end
	end
end

return sharetable
