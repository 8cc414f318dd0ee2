-- sprotoloader: share compiled sproto schemas between the services of a node.
--
-- A schema saved in one of the process-wide slots (0..15, lua-sproto.c) can
-- be loaded by any service without parsing it again; the slot holds a
-- reference, and so does every sproto loaded from it, so replacing a slot
-- never frees a schema still in use.
local parser = require "sprotoparser"
local core = require "sproto.core"
local sproto = require "sproto"

local loader = {}

local function newproto(bin)
	local cobj, err = core.newproto(bin)
	if not cobj then
		error(err, 3)
	end
	return cobj
end

-- register(filename, index): parse a schema file and save it in slot index.
function loader.register(filename, index)
	local f, err = io.open(filename, "rb")
	if not f then
		error("Can't open sproto file: " .. tostring(err), 2)
	end
	local text = f:read "a"
	f:close()
	core.saveproto(newproto(parser.parse(text, filename)), index)
end

-- save(bin, index): save a binary schema (sprotoparser.parse's result).
function loader.save(bin, index)
	core.saveproto(newproto(bin), index)
end

-- load(index) -> a sproto object sharing the schema in slot index.
function loader.load(index)
	return sproto.sharenew(core.loadproto(index))
end

return loader
