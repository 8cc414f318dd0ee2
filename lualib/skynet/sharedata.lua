-- skynet.sharedata: configuration data shared by the services of a node,
-- updated in place.
--
--   sharedata.new(name, value, ...)     value: a table, Lua source returning one,
--                                       or "@filename" (the chunk gets ...)
--   sharedata.update(name, value, ...)  every reader sees the new data soon after
--   sharedata.delete(name)
--   local obj = sharedata.query(name)   read-only; follows updates by itself
--   sharedata.deepcopy(name, key...)    a private plain copy of (a part of) it
--   sharedata.flush()                   lets go of the memory of old versions
--
-- The data lives once in C memory (skynet.sharebox); a reader sees it through
-- proxies that keep what it has read.  When the data is updated, every proxy
-- the reader holds switches to the new data at the same path, all at once.
local reader = require "skynet.sharebox_reader"

local r = reader.new "sharedata"
local sharedata = {}

local function load(name, value, ...)
	local kind
	if type(value) == "table" then
		kind = "table"
	elseif type(value) == "string" then
		if value:sub(1, 1) == "@" then
			kind, value = "file", value:sub(2)
		else
			kind = "source"
		end
	else
		error("sharedata: a table, Lua source or @filename is needed, got " .. type(value), 3)
	end
	reader.call("load", "sharedata", name, kind, value, ...)
end

function sharedata.new(name, value, ...)
	load(name, value, ...)
end

function sharedata.update(name, value, ...)
	load(name, value, ...)
end

function sharedata.delete(name)
	reader.call("delete", "sharedata", name)
end

function sharedata.query(name)
	local known = r.boxes[name]
	local root = r.query(name)
	if root == nil then
		error("sharedata: no data named " .. tostring(name), 2)
	end
	if not known then
		r.follow(name)
	end
	return root
end

function sharedata.deepcopy(name, ...)
	local t = sharedata.query(name)
	for i = 1, select("#", ...) do
		t = t[select(i, ...)]
		if type(t) ~= "table" then
			return t
		end
	end
	return require("skynet.sharebox").copy(t)
end

function sharedata.flush()
	collectgarbage "collect"
end

return sharedata
