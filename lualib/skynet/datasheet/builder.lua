-- skynet.datasheet.builder: makes (new) and replaces (update) the data that
-- skynet.datasheet readers see.
local reader = require "skynet.sharebox_reader"

local builder = {}

function builder.new(name, t)
	assert(type(t) == "table", "datasheet.builder.new needs a table")
	reader.call("load", "datasheet", name, "table", t)
end

function builder.update(name, t)
	assert(type(t) == "table", "datasheet.builder.update needs a table")
	reader.call("load", "datasheet", name, "table", t)
end

return builder
